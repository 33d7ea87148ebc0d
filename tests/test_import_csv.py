"""CSV as other programs write it: preambles, delimiters, byte-order marks, their
column names, their ids, their dates, and crm's own CSV for spreadsheets.

Header rows are the programs' own (in the column order they write them):
- Thunderbird: comm-central's address book export test data
  (mailnews/addrbook/test/unit/data/export.csv, MPL 2.0) and its `;`/tab exports;
- Google Contacts: the current export ("First Name,Middle Name,...,E-mail 1 - Label")
  and the legacy "Google CSV" ("Name,Given Name,Additional Name,...");
- Outlook: "Export to a file > Comma Separated Values" (Microsoft's documented column set);
- LinkedIn: Connections.csv of "Get a copy of your data" (a Notes: paragraph first);
- HubSpot: contacts and companies exports; Salesforce: report exports of contacts and
  accounts (column labels) and the Data Export's API names (person accounts).
"""

import json

import pytest

from crmcli import formats
from crmcli.errors import Refused
from crmcli.formats import table

THUNDERBIRD = (
    "First Name,Last Name,Display Name,Nickname,Primary Email,Secondary Email,Screen Name,"
    "Work Phone,Home Phone,Fax Number,Pager Number,Mobile Number,Home Address,Home Address 2,"
    "Home City,Home State,Home ZipCode,Home Country,Work Address,Work Address 2,Work City,"
    "Work State,Work ZipCode,Work Country,Job Title,Department,Organization,Web Page 1,"
    "Web Page 2,Birth Year,Birth Month,Birth Day,Custom 1,Custom 2,Custom 3,Custom 4,Notes"
)
GOOGLE = (
    "First Name,Middle Name,Last Name,Phonetic First Name,Phonetic Middle Name,"
    "Phonetic Last Name,Name Prefix,Name Suffix,Nickname,File As,Organization Name,"
    "Organization Title,Organization Department,Birthday,Notes,Photo,Labels,E-mail 1 - Label,"
    "E-mail 1 - Value,E-mail 2 - Label,E-mail 2 - Value,Phone 1 - Label,Phone 1 - Value,"
    "Address 1 - Label,Address 1 - Formatted,Address 1 - Street,Address 1 - City,"
    "Address 1 - PO Box,Address 1 - Region,Address 1 - Postal Code,Address 1 - Country,"
    "Address 1 - Extended Address,Website 1 - Label,Website 1 - Value,Relation 1 - Label,"
    "Relation 1 - Value,Event 1 - Label,Event 1 - Value,IM 1 - Label,IM 1 - Service,"
    "IM 1 - Value,Custom Field 1 - Label,Custom Field 1 - Value"
)
GOOGLE_LEGACY = (
    "Name,Given Name,Additional Name,Family Name,Yomi Name,Given Name Yomi,"
    "Additional Name Yomi,Family Name Yomi,Name Prefix,Name Suffix,Initials,Nickname,"
    "Short Name,Maiden Name,Birthday,Gender,Location,Billing Information,Directory Server,"
    "Mileage,Occupation,Hobby,Sensitivity,Priority,Subject,Notes,Language,Photo,"
    "Group Membership,E-mail 1 - Type,E-mail 1 - Value,Phone 1 - Type,Phone 1 - Value,"
    "Organization 1 - Type,Organization 1 - Name,Organization 1 - Title,"
    "Organization 1 - Department,Website 1 - Type,Website 1 - Value"
)
OUTLOOK = (
    "Title,First Name,Middle Name,Last Name,Suffix,Company,Department,Job Title,"
    "Business Street,Business Street 2,Business Street 3,Business City,Business State,"
    "Business Postal Code,Business Country/Region,Home Street,Home Street 2,Home Street 3,"
    "Home City,Home State,Home Postal Code,Home Country/Region,Other Street,Other Street 2,"
    "Other Street 3,Other City,Other State,Other Postal Code,Other Country/Region,"
    "Assistant's Phone,Business Fax,Business Phone,Business Phone 2,Callback,Car Phone,"
    "Company Main Phone,Home Fax,Home Phone,Home Phone 2,ISDN,Mobile Phone,Other Fax,"
    "Other Phone,Pager,Primary Phone,Radio Phone,TTY/TDD Phone,Telex,Account,Anniversary,"
    "Assistant's Name,Billing Information,Birthday,Business Address PO Box,Categories,"
    "Children,Directory Server,E-mail Address,E-mail Type,E-mail Display Name,"
    "E-mail 2 Address,E-mail 2 Type,E-mail 2 Display Name,E-mail 3 Address,E-mail 3 Type,"
    "E-mail 3 Display Name,Gender,Government ID Number,Hobby,Home Address PO Box,Initials,"
    "Internet Free Busy,Keywords,Language,Location,Manager's Name,Mileage,Notes,"
    "Office Location,Organizational ID Number,Other Address PO Box,Priority,Private,"
    "Profession,Referred By,Sensitivity,Spouse,User 1,User 2,User 3,User 4,Web Page"
)
LINKEDIN_NOTES = (
    'Notes:\n"When exporting your connection data, you may notice that some of the email'
    " addresses are missing. You will only see email addresses for connections who have"
    ' allowed their connections to see or download their email address, see'
    ' https://www.linkedin.com/psettings/privacy/email"\n\n'
)
LINKEDIN = "First Name,Last Name,URL,Email Address,Company,Position,Connected On"
HUBSPOT = (
    "Record ID,First Name,Last Name,Email,Phone Number,Mobile Phone Number,Job Title,"
    "Company Name,Street Address,City,State/Region,Postal Code,Country/Region,Website URL,"
    "Lifecycle Stage,Contact owner,Create Date,Associated Company"
)
HUBSPOT_COMPANIES = (
    "Record ID,Company name,Company Domain Name,Website URL,Phone Number,Street Address,City,"
    "State/Region,Postal Code,Country/Region,Industry,Type,Create Date"
)
SALESFORCE = (
    "Contact ID,Account ID,Account Name,Salutation,First Name,Last Name,Title,Department,"
    "Mailing Street,Mailing City,Mailing State/Province,Mailing Zip/Postal Code,"
    "Mailing Country,Other Street,Other City,Phone,Mobile,Home Phone,Fax,Email,Birthdate,"
    "Description"
)
SALESFORCE_ACCOUNTS = (
    "Account ID,Account Name,Type,Industry,Website,Phone,Billing Street,Billing City,"
    "Billing State/Province,Billing Zip/Postal Code,Billing Country,Shipping Street,"
    "Shipping City,Description,Parent Account"
)
ZOHO_ACCOUNTS = (
    "Record Id,Account Name,Account Number,Account Owner,Phone,Website,Account Type,Industry,"
    "Billing Street,Billing City,Billing State,Billing Code,Billing Country,Description"
)


@pytest.fixture
def other_db(tmp_path):
    return {"CRM_DB": str(tmp_path / "other.db")}


def read(text: str, kind: str = "contacts", delimiter=None, mapping=(), **options) -> list[dict]:
    return [data for _, _, data in table.read_csv(text, kind, delimiter, mapping, **options)]


def row(header: str, **cells: str) -> str:
    """A data row for `header`: the named cells filled, the rest empty."""
    columns = header.split(",")
    values = ['"' + cells.get(column, "").replace('"', '""') + '"' for column in columns]
    return header + "\n" + ",".join(values) + "\n"


def fields(data: dict) -> dict:
    return json.loads(data.get("fields", "{}"))


def _emails(data: dict) -> list:
    return [(item["label"], item["value"]) for item in data["emails"]]


# -- finding the header ----------------------------------------------------------------
def test_linkedin_preamble_before_the_header_is_skipped():
    text = LINKEDIN_NOTES + LINKEDIN + "\n"
    text += "Priya,Nair,https://www.linkedin.com/in/pn,,Meridian,Partner,12 Mar 2021\n"
    (priya,) = read(text)
    assert (priya["first_name"], priya["last_name"], priya["account"], priya["title"]) == (
        "Priya", "Nair", "Meridian", "Partner"
    )  # fmt: skip
    assert priya["urls"] == [{"value": "https://www.linkedin.com/in/pn", "label": "linkedin"}]
    assert fields(priya) == {"linkedin_connected_on": "12 Mar 2021"}
    # the line numbers are the file's
    assert [where for where, _, _ in table.read_csv(text, "contacts", None, [])] == ["line 5"]


def test_a_column_mapped_to_email_adds_to_the_list():
    assert _emails(read("Mail,Work Email\na@x.example,b@x.example\n",
                        mapping=["Mail=email"])[0]) == [(None, "a@x.example"),
                                                        ("work", "b@x.example")]  # fmt: skip


def test_a_one_column_file_keeps_its_first_rows():
    assert read("email\na@x.example\n\nb@x.example\n") == [
        {"emails": [{"value": "a@x.example", "label": None}]},
        {"emails": [{"value": "b@x.example", "label": None}]},
    ]
    assert read("name\nDoe; Jane\n") == [{"name": "Doe; Jane"}]  # not a ; file


@pytest.mark.parametrize("sep", [";", "\t"])
def test_semicolon_and_tab_delimiters_of_a_csv_are_found(sep):
    text = sep.join(["Display Name", "First Name", "Last Name", "Primary Email"]) + "\n"
    text += sep.join(["John Doe", "John", "Doe", "john@doe.invalid"]) + "\n"
    assert read(text) == [{"name": "John Doe", "first_name": "John", "last_name": "Doe",
                           "emails": [{"value": "john@doe.invalid", "label": None}]}]  # fmt: skip


def test_a_comma_in_a_quoted_preamble_or_cell_does_not_choose_the_delimiter():
    assert read('name;city\n"Doe, Jane";"A, B"\n') == [{"name": "Doe, Jane", "city": "A, B"}]
    assert read('sep=;\nname;city\nJane;Rome\n') == [{"name": "Jane", "city": "Rome"}]


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be", "utf-8", "utf-32-le"])
def test_byte_order_marks_say_the_encoding(codec):
    text = "Display Name,Primary Email\nJosé Müller,jose@x.example\n"
    data = "\ufeff".encode(codec) + text.encode(codec)
    assert formats.decode(data, None) == text
    assert formats.decode("\ufeff".encode() + text.encode(), "utf-8") == text
    with pytest.raises(Refused, match="--encoding"):
        formats.decode(text.encode("utf-16-le"), None)  # without a BOM: say it
    with pytest.raises(Refused, match=r"UTF-16 without a byte-order mark.*--encoding utf-16-le"):
        formats.decode("name,email\nJo,jo@x.example\n".encode("utf-16-le"), None)
    assert formats.decode("name\nJo\n".encode("utf-16-le"), "utf-16-le") == "name\nJo\n"


# -- the programs' column names ------------------------------------------------------------
def test_thunderbird_columns():
    (data,) = read(row(
        THUNDERBIRD, **{"First Name": "Jane", "Last Name": "Doe", "Display Name": "Dr. Jane Doe",
        "Nickname": "JD", "Primary Email": "jane@x.example", "Secondary Email": "jd@y.example",
        "Work Phone": "+1 555 0100", "Mobile Number": "+1 555 0101", "Fax Number": "+1 555 0102",
        "Home Address": "1 Road", "Home Address 2": "Flat 2", "Home City": "Town",
        "Home ZipCode": "12345", "Work Address": "2 Lane", "Work City": "City",
        "Job Title": "CTO", "Department": "R&D", "Organization": "Acme",
        "Web Page 1": "https://acme.example", "Web Page 2": "https://jane.example",
        "Birth Month": "4", "Birth Day": "23", "Custom 1": "one", "Notes": "hello"}
    ))  # fmt: skip
    assert (data["name"], data["nickname"], data["account"], data["department"]) == (
        "Dr. Jane Doe", "JD", "Acme", "R&D"
    )  # fmt: skip
    assert data["birthday"] == "--04-23"  # no year: kept year-less
    assert [a["label"] for a in data["addresses"]] == ["home", "work"]
    assert data["addresses"][0] == {"label": "home", "po_box": None, "extended": None,
                                    "street": "1 Road\nFlat 2", "city": "Town", "region": None,
                                    "postal_code": "12345", "country": None}  # fmt: skip
    assert [(p["label"], p["value"]) for p in data["phones"]] == [
        ("work", "+1 555 0100"), ("mobile", "+1 555 0101"), ("fax", "+1 555 0102")
    ]  # fmt: skip
    assert [u["label"] for u in data["urls"]] == ["work", "home"]
    assert len(data["emails"]) == 2 and fields(data) == {"custom_1": "one"}
    (dated,) = read(row(THUNDERBIRD, **{"Display Name": "A", "Birth Year": "1990",
                                        "Birth Month": "4", "Birth Day": "3"}))  # fmt: skip
    assert dated["birthday"] == "1990-04-03"


def test_google_current_columns():
    (data,) = read(row(
        GOOGLE, **{"First Name": "Grace", "Middle Name": "Brewster", "Last Name": "Hopper",
        "Name Prefix": "Rear Adm.", "Nickname": "Amazing Grace", "Organization Name": "US Navy",
        "Organization Title": "Rear Admiral", "Organization Department": "Computing",
        "Birthday": "--12-09", "Labels": "* myContacts ::: Navy", "E-mail 1 - Label": "* Work",
        "E-mail 1 - Value": "grace@navy.example", "E-mail 2 - Label": "Home",
        "E-mail 2 - Value": "a@home.example ::: b@home.example", "Phone 1 - Label": "Mobile",
        "Phone 1 - Value": "\u202a+1 202-555-0100\u202c", "Address 1 - Label": "Home",
        "Address 1 - Formatted": "12 Elm Road\nNew York", "Address 1 - Street": "12 Elm Road",
        "Address 1 - City": "New York", "Address 1 - PO Box": "PO Box 7",
        "Address 1 - Extended Address": "Apt 3", "Website 1 - Label": "Profile",
        "Website 1 - Value": "https://navy.example/hopper", "Relation 1 - Label": "Spouse",
        "Relation 1 - Value": "Vincent", "Event 1 - Label": "Anniversary",
        "Event 1 - Value": "1930-06-15", "IM 1 - Label": "Work", "IM 1 - Service": "Skype",
        "IM 1 - Value": "grace.h", "Custom Field 1 - Label": "Rank",
        "Custom Field 1 - Value": "Rear Admiral", "Phonetic Last Name": "HOP-er"}
    ))  # fmt: skip
    assert (data["prefix"], data["middle_name"], data["nickname"], data["tags"]) == (
        "Rear Adm.", "Brewster", "Amazing Grace", "Navy"
    )  # fmt: skip
    assert (data["account"], data["title"], data["department"]) == (
        "US Navy", "Rear Admiral", "Computing"
    )  # fmt: skip
    assert data["birthday"] == "--12-09"
    assert _emails(data) == [("work", "grace@navy.example"), ("home", "a@home.example"),
                             ("home", "b@home.example")]  # fmt: skip
    assert data["phones"] == [{"value": "\u202a+1 202-555-0100\u202c", "label": "mobile"}]
    assert data["addresses"] == [{"label": "home", "po_box": "PO Box 7", "extended": "Apt 3",
                                  "street": "12 Elm Road", "city": "New York", "region": None,
                                  "postal_code": None, "country": None}]  # fmt: skip
    assert data["urls"] == [{"value": "https://navy.example/hopper", "label": "profile"}]
    assert data["related"] == [{"value": "Vincent", "label": "spouse"}]
    assert data["dates"] == [{"value": "1930-06-15", "label": "anniversary"}]
    assert data["impps"] == [{"value": "skype:grace.h", "label": "work"}]
    assert fields(data) == {"Rank": "Rear Admiral", "phonetic_last_name": "HOP-er"}


def test_google_formatted_address_alone_is_the_street():
    (data,) = read(row(GOOGLE, **{"First Name": "A", "Address 1 - Label": "Work",
                                  "Address 1 - Formatted": "1 Main St\nArlington"}))  # fmt: skip
    assert data["addresses"][0]["street"] == "1 Main St\nArlington"
    assert data["addresses"][0]["label"] == "work"
    two = GOOGLE.replace("Website 1", "Address 2 - Label,Address 2 - City,Website 1", 1)
    (data,) = read(row(two, **{"First Name": "A", "Address 1 - Label": "Home",
                               "Address 1 - City": "Rome", "Address 2 - Label": "Home",
                               "Address 2 - City": "Oslo"}))  # fmt: skip
    assert [(a["label"], a["city"]) for a in data["addresses"]] == [("home", "Rome"),
                                                                    ("home", "Oslo")]  # fmt: skip


def test_google_legacy_columns():
    (data,) = read(row(
        GOOGLE_LEGACY, **{"Name": "Dr. Ada King PhD", "Given Name": "Ada",
        "Additional Name": "Augusta", "Family Name": "King", "Name Prefix": "Dr.",
        "Name Suffix": "PhD", "Nickname": "Ada", "Gender": "female", "Birthday": "1815-12-10",
        "Group Membership": "* My Contacts ::: Analysts", "E-mail 1 - Type": "* Work",
        "E-mail 1 - Value": "ada@engines.example", "Phone 1 - Type": "Work Fax",
        "Phone 1 - Value": "+44 20 7946 0000", "Organization 1 - Name": "Engines Ltd",
        "Organization 1 - Title": "Programmer", "Organization 1 - Department": "Research",
        "Website 1 - Type": "Blog", "Website 1 - Value": "https://ada.example",
        "Sensitivity": "Normal"}
    ))  # fmt: skip
    assert (data["name"], data["prefix"], data["suffix"], data["middle_name"]) == (
        "Dr. Ada King PhD", "Dr.", "PhD", "Augusta"
    )  # fmt: skip
    assert (data["gender"], data["tags"], data["account"], data["department"]) == (
        "female", "Analysts", "Engines Ltd", "Research"
    )  # fmt: skip
    assert data["phones"] == [{"value": "+44 20 7946 0000", "label": "work fax"}]
    assert data["urls"] == [{"value": "https://ada.example", "label": "blog"}]
    assert "fields" not in data  # Sensitivity "Normal" is Outlook's and Google's nothing


def test_outlook_columns():
    (data,) = read(row(
        OUTLOOK, **{"Title": "Ms.", "First Name": "Maria", "Middle Name": "Elena",
        "Last Name": "Garcia", "Suffix": "Jr.", "Company": "Contoso", "Department": "Sales",
        "Job Title": "Account Manager", "Business Street": "1 Microsoft Way",
        "Business Street 2": "Building 4", "Business City": "Redmond", "Business State": "WA",
        "Business Postal Code": "98052", "Business Country/Region": "USA",
        "Business Address PO Box": "PO 9", "Home Street": "22 Pine St", "Home City": "Seattle",
        "Other City": "Portland", "Business Fax": "(425) 555-0199",
        "Business Phone": "(425) 555-0100", "Home Phone": "425 555 0102;ext=7",
        "Mobile Phone": "+1\u00a0425\u00a0555\u00a00101", "Car Phone": "+1 555 0103",
        "Anniversary": "0/0/00", "Birthday": "4/23/1990", "Categories": "Customers;VIP",
        "E-mail Address": "maria@contoso.example", "E-mail Type": "SMTP",
        "E-mail Display Name": "Maria Garcia (maria@contoso.example)",
        "E-mail 2 Address": "maria@home.example", "Gender": "Unspecified",
        "Notes": "Prefers calls.", "Priority": "Normal", "Private": "False",
        "Sensitivity": "Normal", "Spouse": "Luis", "Children": "Ana",
        "Assistant's Name": "Kim", "Web Page": "https://contoso.example/maria",
        "Account": "A-77", "Referred By": "Bob"}
    ))  # fmt: skip
    assert (data["prefix"], data["suffix"], data["title"], data["account"]) == (
        "Ms.", "Jr.", "Account Manager", "Contoso"
    )  # fmt: skip
    assert data["birthday"] == "1990-04-23" and "anniversary" not in data  # 0/0/00: none
    assert "gender" not in data and data["tags"] == "Customers;VIP"
    assert [(a["label"], a["street"], a["extended"], a["po_box"], a["city"])
            for a in data["addresses"]] == [
        ("work", "1 Microsoft Way\nBuilding 4", None, "PO 9", "Redmond"),
        ("home", "22 Pine St", None, None, "Seattle"),
        ("other", None, None, None, "Portland"),
    ]  # fmt: skip
    assert [(p["label"], p["value"]) for p in data["phones"]] == [
        ("work", "(425) 555-0100"), ("home", "425 555 0102;ext=7"),
        ("mobile", "+1\u00a0425\u00a0555\u00a00101"), ("work fax", "(425) 555-0199"),
        ("car", "+1 555 0103"),
    ]  # fmt: skip
    assert [e["value"] for e in data["emails"]] == ["maria@contoso.example", "maria@home.example"]
    assert data["related"] == [{"value": "Kim", "label": "assistant"},
                               {"value": "Ana", "label": "child"},
                               {"value": "Luis", "label": "spouse"}]  # fmt: skip
    assert data["urls"] == [{"value": "https://contoso.example/maria", "label": None}]
    assert fields(data) == {"account": "A-77", "referred_by": "Bob"}  # not the company


def test_outlook_exchange_entries_are_no_e_mails():
    (data,) = read(row(OUTLOOK, **{
        "First Name": "Jo", "E-mail Address": "/o=ExchangeLabs/ou=Exchange/cn=Recipients/cn=jo",
        "E-mail Type": "EX", "E-mail 2 Address": "jo@x.example", "E-mail 2 Type": "SMTP"}))
    assert data["emails"] == [{"value": "jo@x.example", "label": None}]
    assert fields(data) == {"exchange_address": "/o=ExchangeLabs/ou=Exchange/cn=Recipients/cn=jo"}


def test_linkedin_hubspot_and_salesforce_columns():
    (hub,) = read(row(
        HUBSPOT, **{"Record ID": "51", "First Name": "Gaëlle", "Last Name": "Perrin",
        "Email": "g@fromagerie.example", "Phone Number": "04 50 11 22 33",
        "Mobile Phone Number": "+33 6 12 34 56 78", "Job Title": "Buyer",
        "Company Name": "Fromagerie Perrin", "Associated Company": "Fromagerie P.",
        "Street Address": "3 rue du Lac", "City": "Annecy", "State/Region": "Haute-Savoie",
        "Postal Code": "74000", "Country/Region": "France",
        "Website URL": "https://fromagerie.example", "Lifecycle Stage": "customer"}
    ))  # fmt: skip
    assert (hub["account"], hub["street"], hub["region"], hub["postal_code"]) == (
        "Fromagerie Perrin", "3 rue du Lac", "Haute-Savoie", "74000"
    )  # fmt: skip
    assert fields(hub) == {"source_id": "51", "lifecycle_stage": "customer",
                           "associated_company": "Fromagerie P.",
                           "source_id_column": "record id"}  # fmt: skip
    assert [p["label"] for p in hub["phones"]] == [None, "mobile"]
    (sf,) = read(row(
        SALESFORCE, **{"Contact ID": "0035g00000AbCdEAAZ", "Account ID": "0015g00000XyZaBAAV",
        "Account Name": "Acme", "Salutation": "Mr.", "First Name": "Jack", "Last Name": "Rogers",
        "Title": "VP, Facilities", "Mailing Street": "123 Main St\nSuite 400",
        "Mailing City": "Burlington", "Mailing Zip/Postal Code": "27215", "Other City": "Cary",
        "Mobile": "(336) 555-0123", "Fax": "(336) 555-0124", "Email": "jr@acme.example",
        "Birthdate": "5/14/1971"}
    ))  # fmt: skip
    assert (sf["prefix"], sf["title"], sf["account"], sf["birthday"]) == (
        "Mr.", "VP, Facilities", "Acme", "1971-05-14"
    )  # fmt: skip
    assert [(a["label"], a["city"], a["postal_code"]) for a in sf["addresses"]] == [
        (None, "Burlington", "27215"), ("other", "Cary", None)
    ]  # fmt: skip
    assert fields(sf) == {"source_id": "0035g00000AbCdEAAZ",
                          "source_account_id": "0015g00000XyZaBAAV",
                          "source_id_column": "contact id"}  # fmt: skip
    api = "Id,IsPersonAccount,Name,Salutation,PersonEmail,PersonMobilePhone,PersonMailingCity"
    (person,) = read(
        api + "\n001Hs00002tqbWTIAY,true,Lena Fischer,Ms.,l@mail.example,+49 151,Berlin\n"
    )
    assert (person["name"], person["prefix"], person["emails"][0]["value"]) == (
        "Lena Fischer", "Ms.", "l@mail.example"
    )  # fmt: skip
    assert person["phones"] == [{"value": "+49 151", "label": "mobile"}]
    assert fields(person) == {"source_id": "001Hs00002tqbWTIAY", "is_person_account": "true",
                              "source_id_column": "id"}  # fmt: skip


# -- accounts ---------------------------------------------------------------------------
def test_company_exports_as_accounts():
    (hub,) = read(row(
        HUBSPOT_COMPANIES, **{"Record ID": "9001", "Company name": "Bluebay Ltd",
        "Company Domain Name": "bluebay.example", "Website URL": "https://bluebay.example",
        "Phone Number": "+44 20 7946 0101", "Street Address": "5 Harbour Rd",
        "City": "Brighton", "Industry": "GAMBLING_CASINOS", "Type": "CUSTOMER"}
    ), "accounts")  # fmt: skip
    assert hub == {"name": "Bluebay Ltd", "website": "https://bluebay.example",
                   "phone": "+44 20 7946 0101", "street": "5 Harbour Rd", "city": "Brighton",
                   "industry": "GAMBLING_CASINOS", "type": "customer",
                   "fields": json.dumps({"source_id": "9001",
                                         "company_domain_name": "bluebay.example",
                                         "source_id_column": "record id"})}  # fmt: skip
    (sf,) = read(row(
        SALESFORCE_ACCOUNTS, **{"Account ID": "0015g00000XyZaBAAV", "Account Name": "Acme East",
        "Type": "Channel Partner / Reseller", "Website": "https://acme.example",
        "Billing Street": "123 Main St", "Billing State/Province": "NC",
        "Billing Zip/Postal Code": "27215", "Shipping City": "Raleigh",
        "Description": "Makers.", "Parent Account": "Acme Corporation"}
    ), "accounts")  # fmt: skip
    assert (sf["name"], sf["type"], sf["street"], sf["region"], sf["postal_code"]) == (
        "Acme East", "partner", "123 Main St", "NC", "27215"
    )  # fmt: skip
    assert (sf["parent"], sf["description"]) == ("Acme Corporation", "Makers.")
    assert fields(sf) == {"source_id": "0015g00000XyZaBAAV", "shipping_city": "Raleigh",
                          "source_type": "Channel Partner / Reseller",
                          "source_id_column": "account id"}  # fmt: skip
    (zoho,) = read(row(ZOHO_ACCOUNTS, **{"Record Id": "z1", "Account Name": "Zylker",
                                         "Account Type": "Vendor", "Billing Code": "600001",
                                         "Account Number": "A-1"}), "accounts")  # fmt: skip
    assert (zoho["name"], zoho["type"], zoho["postal_code"]) == ("Zylker", "vendor", "600001")
    assert fields(zoho) == {"source_id": "z1", "source_account_number": "A-1",
                            "source_id_column": "record id"}  # fmt: skip
    api = "Id,IsPersonAccount,Name,PersonEmail,PersonMobilePhone,PersonMailingCity"
    (person,) = read(api + "\n001H,true,Lena Fischer,l@mail.example,+49 151,Berlin\n", "accounts")
    assert (person["kind"], person["email"], person["city"]) == (
        "person", "l@mail.example", "Berlin"
    )  # fmt: skip
    assert fields(person) == {"source_id": "001H", "source_id_column": "id"}
    assert person["phones"] == [{"value": "+49 151", "label": "mobile"}]  # the person's (#13)


# -- ids --------------------------------------------------------------------------------
def test_only_crms_own_header_gives_crm_ids():
    assert read("id,name,email\n7,Jane,j@x.example\n")[0]["id"] == "7"
    assert table.own_header(["id", "name", "account_id"], "contacts")
    foreign = read("ID,Name,Account ID\n001Hs00002tqbWT,Jane,0015g\n")[0]
    assert "id" not in foreign
    assert fields(foreign) == {"source_id": "001Hs00002tqbWT", "source_account_id": "0015g",
                               "source_id_column": "id"}  # fmt: skip
    assert fields(read("Id,Name\n7,Acme\n", "accounts")[0]) == {"source_id": "7",
                                                                "source_id_column": "id"}
    deal = read("Opportunity ID,Account ID,name,amount\n006x,001y,Big,100\n", "deals")[0]
    assert fields(deal) == {"source_id": "006x", "source_account_id": "001y",
                            "source_id_column": "opportunity id"}  # fmt: skip
    assert "account_id" not in deal and deal["name"] == "Big"


# -- dates ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "order", "expected"),
    [
        ("1990-04-23", None, "1990-04-23"),
        ("--04-23", None, "--04-23"),
        ("--0423", None, "--04-23"),
        ("19900423", None, "1990-04-23"),
        ("1990/4/23", None, "1990-04-23"),
        ("1990-4-3", None, "1990-04-03"),
        ("4/23/1990", None, "1990-04-23"),
        ("23/4/1990", None, "1990-04-23"),
        ("23.04.1990", None, "1990-04-23"),
        ("04/05/1990", "mdy", "1990-04-05"),
        ("04/05/1990", "dmy", "1990-05-04"),
        ("5/5/1990", None, "1990-05-05"),
        ("0/0/00", None, None),
        ("1990-04-23T00:00:00Z", None, "1990-04-23"),
        ("April 23", None, "April 23"),  # no date: the check says so
    ],
)
def test_dates_as_other_programs_write_them(text, order, expected):
    assert table._date(text, order, "line 2", "birthday") == expected


def test_a_year_less_date_crm_defused_for_spreadsheets_comes_back():
    assert read("name,birthday\nJane,'--04-23\n") == [{"name": "Jane", "birthday": "--04-23"}]


def test_a_date_that_could_be_read_two_ways_needs_the_order():
    text = "Name,Birthday\nJane,04/05/1990\n"
    with pytest.raises(Refused, match=r"line 2: birthday '04/05/1990'.*--date-order"):
        read(text)
    assert read(text, date_order="dmy")[0]["birthday"] == "1990-05-04"
    # Outlook's files are month first
    assert read(row(OUTLOOK, **{"First Name": "A", "Birthday": "04/05/1990"}))[0][
        "birthday"
    ] == "1990-04-05"


# -- describe ---------------------------------------------------------------------------
def test_describe_says_what_each_column_fills():
    more = ",Home City,Notes,E-mail Display Name,Sensitivity,Birth Year,Fax"
    header = (LINKEDIN + more).split(",")
    assert table.describe(header, "contacts", ["Notes=description"]) == [
        ("First Name", "field first_name"),
        ("Last Name", "field last_name"),
        ("URL", "url (linkedin)"),
        ("Email Address", "e-mail"),
        ("Company", "field account"),
        ("Position", "field title"),
        ("Connected On", "custom field linkedin_connected_on"),
        ("Home City", "address (home) city"),
        ("Notes", "field description"),
        ("E-mail Display Name", "ignored (Outlook's display name for the e-mail)"),
        ("Sensitivity", "custom field sensitivity"),
        ("Birth Year", "birthday (year)"),
        ("Fax", "phone (fax)"),
    ]
    assert table.read_header(LINKEDIN_NOTES + LINKEDIN + "\nA,B,,,,,\n") == LINKEDIN.split(",")
    assert table.read_header("a;b\n1;2\n") == ["a", "b"] and table.read_header("") == []
    google = table.describe(["E-mail 1 - Label", "E-mail 1 - Value", "Address 2 - City",
                             "Record ID"], "contacts", {})  # fmt: skip
    assert [what for _, what in google] == [
        "e-mail 1 label", "e-mail 1", "address 2 city", "custom field source_id"
    ]  # fmt: skip


# -- through crm ------------------------------------------------------------------------
def test_linkedin_connections_import(crm, tmp_path):
    path = tmp_path / "Connections.csv"
    path.write_text(LINKEDIN_NOTES + LINKEDIN + "\n"
                    "Priya,Nair,https://www.linkedin.com/in/pn,priya@m.example,Meridian,Partner,"
                    '12 Mar 2021\nTom,Merrill,https://www.linkedin.com/in/tm,,"Ridgeline, LLC",'
                    "General Partner,03 Jan 2024\n")  # fmt: skip
    assert "imported 2 accounts, 2 contacts" in crm.ok("import", str(path)).stderr
    tom = crm.json("contact", "show", "Tom Merrill")
    assert (tom["account"], tom["title"]) == ("Ridgeline, LLC", "General Partner")
    assert tom["fields"] == {"linkedin_connected_on": "03 Jan 2024"}


@pytest.mark.parametrize("codec", ["utf-16", "utf-8-sig"])
def test_thunderbird_semicolons_in_utf16(crm, tmp_path, codec):
    path = tmp_path / "thunderbird.csv"
    path.write_bytes("Display Name;Primary Email\nJosé Müller;jose@x.example\n".encode(codec))
    crm.ok("import", str(path))
    assert crm.json("contact", "show", "jose@x.example")["name"] == "José Müller"


def test_other_programs_ids_are_kept_and_match_the_same_source_again(crm, tmp_path):
    path = tmp_path / "salesforce.csv"
    text = row(SALESFORCE, **{"Contact ID": "0035g00000AbCdEAAZ", "Account ID": "0015g0000",
                              "Account Name": "Acme", "First Name": "Jack",
                              "Last Name": "Rogers", "Title": "VP"})  # fmt: skip
    path.write_text(text)
    crm.ok("import", str(path))  # today: "an id is a whole number (got '0035g...')"
    jack = crm.json("contact", "show", "Jack Rogers")
    assert jack["fields"] == {"source_id": "0035g00000AbCdEAAZ", "source_account_id": "0015g0000",
                              "source_id_column": "contact id"}  # fmt: skip
    # no e-mail to match it by: its source id does (and the name agrees)
    assert "conflicts with contact 1 already stored" in crm.fails(1, "import", str(path)).stderr
    path.write_text(text.replace('"VP"', '"CEO"'))
    assert "updated 1" in crm.ok("import", str(path), "--on-conflict", "update").stderr
    (jack,) = crm.json("contact", "list")
    assert (jack["id"], jack["name"], jack["title"]) == (1, "Jack Rogers", "CEO")
    accounts = tmp_path / "hubspot.csv"
    accounts.write_text(row(HUBSPOT_COMPANIES, **{"Record ID": "9001", "Company name": "Blue"}))
    crm.ok("import", str(accounts), "--kind", "accounts")
    accounts.write_text(row(HUBSPOT_COMPANIES, **{"Record ID": "9001", "Company name": "Blue",
                                                  "Industry": "Gaming"}))  # fmt: skip
    crm.ok("import", str(accounts), "--kind", "accounts", "--on-conflict", "update")
    blue = crm.json("account", "show", "Blue")
    assert (blue["industry"], blue["fields"]) == (
        "Gaming", {"source_id": "9001", "source_id_column": "record id"}
    )  # fmt: skip
    assert [a["name"] for a in crm.json("account", "list")] == ["Acme", "Blue"]


def test_company_exports_import_as_accounts(crm, tmp_path):
    path = tmp_path / "accounts.csv"
    path.write_text(
        SALESFORCE_ACCOUNTS + "\n"
        "001A,Acme Corporation,Customer - Direct,Manufacturing,https://acme.example,"
        '(336) 222-7000,"123 Main St",Burlington,NC,27215,USA,,,Makers.,\n'
        "001B,Acme East,Customer - Channel,Manufacturing,,,,Raleigh,NC,,USA,,,,Acme Corporation\n"
    )  # today: "an account needs a name" for each
    assert "imported 2 accounts" in crm.ok("import", str(path), "--kind", "accounts").stderr
    acme = crm.json("account", "show", "Acme Corporation")
    assert (acme["type"], acme["website"], acme["city"]) == (
        "customer", "https://acme.example", "Burlington"
    )  # fmt: skip
    assert crm.json("account", "show", "Acme East")["parent"] == "Acme Corporation"


def test_the_same_person_twice_in_a_file_is_one_contact(crm, tmp_path):
    path = tmp_path / "hubspot.csv"
    path.write_text(
        HUBSPOT + "\n"
        "53,Claire,Durand,claire@durand.example,,,CEO,Durand,,,,,,,opportunity,Inès,2024-03-14,\n"
        "54,Claire,Durand,CLAIRE@durand.example,+33 1 23 45 67 89,,Boss,,,Paris,,,,,,,2024-05-01,\n"
        "55,Ben,Roe,ben@roe.example,,,,,,,,,,,,,,\n"
    )
    result = crm.ok("import", str(path))
    assert "imported 1 account, 2 contacts (1 row merged into another)" in result.stderr
    claire = crm.json("contact", "show", "Claire Durand")
    assert (claire["title"], claire["city"], claire["account"]) == ("CEO", "Paris", "Durand")
    assert claire["phones"] == [{"value": "+33 1 23 45 67 89", "label": None}]
    assert claire["fields"]["source_id"] == "53"  # the first row's values stay
    assert crm.ok("db", "check").stderr == "database ok\n"


def test_date_order(crm, tmp_path):
    path = tmp_path / "in.csv"
    path.write_text("Name,Birthday\nJane,04/05/1990\nBob,0/0/00\n")
    refused = crm.fails(1, "import", str(path))
    assert "line 2: birthday '04/05/1990' could be month/day/year or day/month/year" in (
        refused.stderr
    )
    crm.ok("import", str(path), "--date-order", "dmy")
    assert crm.json("contact", "show", "Jane")["birthday"] == "1990-05-04"
    assert crm.json("contact", "show", "Bob")["birthday"] is None
    crm.fails(2, "import", str(path), "--date-order", "ymd")
    (tmp_path / "a.json").write_text("[]")
    crm.fails(2, "import", str(tmp_path / "a.json"), "--date-order", "dmy")


def test_export_csv_for_excel(crm, tmp_path, other_db):
    crm.ok("contact", "add", "José Müller", "--email", "jose@x.example")
    plain = crm.ok("export", "-f", "csv").stdout
    assert not plain.startswith("\ufeff")
    for flag in ("--bom", "--excel"):
        assert crm.ok("export", "-f", "csv", flag).stdout == "\ufeff" + plain
    crm.ok("export", "-f", "csv", "--bom", "-o", str(tmp_path / "excel.csv"))
    assert (tmp_path / "excel.csv").read_bytes().startswith(b"\xef\xbb\xbfid,name,")
    crm.ok("import", str(tmp_path / "excel.csv"), env=other_db)  # crm's own, ids and all
    assert crm.ok("export", "-f", "csv", env=other_db).stdout == plain
    assert "--bom" in crm.fails(2, "export", "--bom").stderr


def test_outlook_and_google_files_land_in_the_record(crm, tmp_path):
    outlook = tmp_path / "outlook.csv"
    outlook.write_text(row(
        OUTLOOK, **{"Title": "Ms.", "First Name": "Maria", "Middle Name": "Elena",
        "Last Name": "Garcia", "Suffix": "Jr.", "Company": "Contoso", "Job Title": "Manager",
        "Business Street": "1 Microsoft Way", "Business Street 2": "Building 4",
        "Business City": "Redmond", "Home Street": "22 Pine St", "Home City": "Seattle",
        "Birthday": "4/23/1990", "Anniversary": "0/0/00", "Gender": "Unspecified",
        "E-mail Address": "maria@contoso.example", "E-mail Display Name": "Maria (m@c)",
        "Spouse": "Luis", "Web Page": "https://contoso.example/maria"}
    ))  # fmt: skip
    assert "imported 1 account, 1 contact" in crm.ok("import", str(outlook)).stderr
    maria = crm.json("contact", "show", "maria@contoso.example")
    assert (maria["name"], maria["prefix"], maria["middle_name"], maria["suffix"]) == (
        "Ms. Maria Elena Garcia Jr.", "Ms.", "Elena", "Jr."
    )  # fmt: skip
    assert (maria["birthday"], maria["anniversary"], maria["gender"]) == ("1990-04-23", None, None)
    assert [(a["label"], a["street"], a["extended"], a["city"]) for a in maria["addresses"]] == [
        ("work", "1 Microsoft Way\nBuilding 4", None, "Redmond"),
        ("home", "22 Pine St", None, "Seattle"),
    ]
    assert (maria["street"], maria["city"]) == ("1 Microsoft Way\nBuilding 4", "Redmond")
    assert maria["related"] == [{"value": "Luis", "label": "spouse"}]
    assert maria["urls"] == [{"value": "https://contoso.example/maria", "label": None}]
    assert maria["fields"] == {}
    google = tmp_path / "google.csv"
    google.write_text(row(
        GOOGLE, **{"First Name": "Grace", "Last Name": "Hopper", "Nickname": "Amazing Grace",
        "Birthday": "--12-09", "E-mail 1 - Label": "* Work", "E-mail 1 - Value": "g@navy.example",
        "Address 1 - Label": "Home", "Address 1 - City": "New York",
        "Website 1 - Label": "Profile", "Website 1 - Value": "https://navy.example/hopper",
        "Event 1 - Label": "Anniversary", "Event 1 - Value": "1930-06-15",
        "IM 1 - Service": "Skype", "IM 1 - Value": "grace.h"}
    ))  # fmt: skip
    crm.ok("import", str(google))
    grace = crm.json("contact", "show", "g@navy.example")
    assert (grace["nickname"], grace["birthday"], grace["city"]) == (
        "Amazing Grace", "--12-09", "New York"
    )  # fmt: skip
    assert grace["dates"] == [{"value": "1930-06-15", "label": "anniversary"}]
    assert grace["impps"] == [{"value": "skype:grace.h", "label": "skype"}]
    assert grace["urls"] == [{"value": "https://navy.example/hopper", "label": "profile"}]


def test_a_row_with_only_an_e_mail_is_a_contact_and_a_later_row_names_it(crm, tmp_path):
    path = tmp_path / "hubspot.csv"
    path.write_text(
        HUBSPOT + "\n"
        "52,,,noname@durand.example,,,,,,,,,,,lead,,2024-03-13,\n"
        "53,Claire,Durand,claire@durand.example,,,CEO,,,,,,,,,,2024-03-14,\n"
        "54,Claire,Durand,NONAME@durand.example,,,,,,Paris,,,,https://durand.example,,,,\n"
    )  # today: "line 2: a contact needs a name"
    assert "imported 2 contacts (1 row merged into another)" in crm.ok("import", str(path)).stderr
    named = crm.json("contact", "show", "noname@durand.example")
    assert (named["name"], named["first_name"], named["city"]) == (
        "Claire Durand", "Claire", "Paris"
    )  # fmt: skip
    assert named["urls"] == [{"value": "https://durand.example", "label": None}]
    assert named["fields"]["source_id"] == "52"
