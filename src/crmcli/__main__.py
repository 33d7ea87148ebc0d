from crmcli.start import main

raise SystemExit(main())
