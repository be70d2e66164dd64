package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/chzyer/readline"
	"github.com/quiverdb/quiver/server"
)

const userUsage = `Usage:
  quiver user add --users FILE [--read-only] NAME   add or update a user; the password is read from stdin
  quiver user remove --users FILE NAME              remove a user (its tokens stop working)
`

// runUser manages the users file `quiver serve --users FILE` reads.
func runUser(args []string, stdin io.Reader, stdinTTY bool) error {
	if len(args) == 0 {
		return fmt.Errorf("user: missing subcommand\n%s", userUsage)
	}
	sub, args := args[0], args[1:]
	fs := flag.NewFlagSet("quiver user "+sub, flag.ContinueOnError)
	users := fs.String("users", "", "users file")
	readOnly := false
	if sub == "add" {
		fs.BoolVar(&readOnly, "read-only", false, "the user may only run queries")
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *users == "" || fs.NArg() != 1 {
		return fmt.Errorf("user %s: need --users FILE and one user NAME\n%s", sub, userUsage)
	}
	name := fs.Arg(0)
	switch sub {
	case "add":
		pw, err := readPassword(stdin, stdinTTY)
		if err != nil {
			return err
		}
		if err := server.AddUser(*users, name, pw, readOnly); err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "user %s saved in %s\n", name, *users)
		return nil
	case "remove":
		return server.RemoveUser(*users, name)
	}
	return fmt.Errorf("user: unknown subcommand %q\n%s", sub, userUsage)
}

// readPassword reads a password: typed twice without echo on a terminal,
// else the first line of stdin.
func readPassword(stdin io.Reader, tty bool) (string, error) {
	if tty {
		p1, err := readline.Password("Password: ")
		if err != nil {
			return "", err
		}
		p2, err := readline.Password("Repeat password: ")
		if err != nil {
			return "", err
		}
		if string(p1) != string(p2) {
			return "", fmt.Errorf("passwords differ")
		}
		return string(p1), nil
	}
	line, err := bufio.NewReader(stdin).ReadString('\n')
	if err != nil && err != io.EOF {
		return "", err
	}
	pw := strings.TrimRight(line, "\r\n")
	if pw == "" {
		return "", fmt.Errorf("no password on stdin")
	}
	return pw, nil
}

func stdinIsTerminal() bool {
	fi, err := os.Stdin.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
