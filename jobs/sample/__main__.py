from jobs.sample import main

main()
