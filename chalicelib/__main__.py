from chalicelib.cli import main

main()
