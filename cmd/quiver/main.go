// Command quiver is Quiver's command line: `quiver serve` runs a node,
// `quiver sql` is a Flight SQL client. Flags become configuration here; the
// logic lives in the packages it wires.
package main

import (
	"fmt"
	"os"
)

// version is set at build time (-ldflags "-X main.version=...").
var version = "dev"

const usage = `quiver: a distributed SQL query engine speaking Arrow Flight SQL

Usage:
  quiver serve [flags]   run a node (Flight SQL on --listen, default 127.0.0.1:32010)
  quiver sql [flags]     run SQL against a node (-c SQL, -f FILE, or interactively)
  quiver user add|remove manage the users file of --users (quiver user add --users FILE [--read-only] NAME)
  quiver version         print the version

Run 'quiver <command> -h' for the flags of a command.
`

func main() {
	if len(os.Args) < 2 {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	var err error
	switch cmd, args := os.Args[1], os.Args[2:]; cmd {
	case "serve":
		err = serve(args)
	case "sql":
		err = runSQL(args)
	case "user":
		err = runUser(args, os.Stdin, stdinIsTerminal())
	case "version", "--version":
		fmt.Println("quiver", version)
	case "help", "-h", "--help":
		fmt.Print(usage)
	default:
		fmt.Fprintf(os.Stderr, "quiver: unknown command %q\n\n%s", cmd, usage)
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "quiver:", err)
		os.Exit(1)
	}
}
