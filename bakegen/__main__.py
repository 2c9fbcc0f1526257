from bakegen.cli import main

main()
