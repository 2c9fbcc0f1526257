from bakegen.entry import main

main()
