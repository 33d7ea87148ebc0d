from crmcli.cli import main

raise SystemExit(main())
