from luot.cli import main

raise SystemExit(main())
