package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/chzyer/readline"
)

const shellHelp = `Statements end with ';' and may span lines. Meta-commands:
  \d            list tables (SHOW TABLES)
  \d TABLE      describe a table
  \timing       toggle printing the time of each statement
  \q            quit (also Ctrl-D)
Ctrl-C cancels the running statement (or clears the line being typed).
`

// interactiveTTY is the shell on a terminal: line editing, history in
// ~/.quiver_history, multi-line statements and meta-commands.
func (c *sqlClient) interactiveTTY() error {
	cfg := &readline.Config{Prompt: "quiver> ", InterruptPrompt: "^C", EOFPrompt: `\q`, DisableAutoSaveHistory: true}
	if home, err := os.UserHomeDir(); err == nil {
		cfg.HistoryFile = filepath.Join(home, ".quiver_history")
	}
	rl, err := readline.NewEx(cfg)
	if err != nil {
		return err
	}
	defer rl.Close()
	fmt.Fprint(os.Stderr, "Quiver SQL shell. Type \\? for help.\n")
	var buf strings.Builder
	for {
		if buf.Len() == 0 {
			rl.SetPrompt("quiver> ")
		} else {
			rl.SetPrompt("     -> ")
		}
		line, err := rl.Readline()
		if errors.Is(err, readline.ErrInterrupt) {
			buf.Reset()
			continue
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if buf.Len() == 0 && strings.HasPrefix(strings.TrimSpace(line), `\`) {
			_ = rl.SaveHistory(line)
			if c.meta(line) {
				return nil
			}
			continue
		}
		buf.WriteString(line)
		buf.WriteByte('\n')
		stmts, rest := splitComplete(buf.String())
		for _, st := range stmts {
			_ = rl.SaveHistory(strings.ReplaceAll(st, "\n", " ") + ";")
			if err := c.run(st); err != nil {
				fmt.Fprintln(os.Stderr, "ERROR:", err)
			}
		}
		buf.Reset()
		if strings.TrimSpace(rest) != "" {
			buf.WriteString(rest)
		}
	}
}

// meta runs a backslash command; it reports whether the shell should quit.
func (c *sqlClient) meta(line string) bool {
	f := strings.Fields(strings.TrimSuffix(strings.TrimSpace(line), ";"))
	switch f[0] {
	case `\q`, `\quit`:
		return true
	case `\timing`:
		c.timing = !c.timing
		state := "off"
		if c.timing {
			state = "on"
		}
		fmt.Fprintf(os.Stderr, "Timing is %s.\n", state)
	case `\d`:
		stmt := "SHOW TABLES"
		if len(f) > 1 {
			stmt = "DESCRIBE " + f[1]
		}
		if err := c.run(stmt); err != nil {
			fmt.Fprintln(os.Stderr, "ERROR:", err)
		}
	case `\?`, `\h`, `\help`:
		fmt.Fprint(os.Stderr, shellHelp)
	default:
		fmt.Fprintf(os.Stderr, "unknown command %s; \\? lists the commands\n", f[0])
	}
	return false
}

// progress prints "running 3.2 s, N rows" on stderr (a terminal) while a
// statement runs longer than a second; stop clears it.
type progress struct {
	rows atomic.Int64
	stop chan struct{}
	done chan struct{}
}

func startProgress(start time.Time) *progress {
	p := &progress{stop: make(chan struct{}), done: make(chan struct{})}
	fi, err := os.Stderr.Stat()
	if err != nil || fi.Mode()&os.ModeCharDevice == 0 {
		close(p.done)
		return p
	}
	go func() {
		defer close(p.done)
		t := time.NewTimer(time.Second)
		defer t.Stop()
		shown := false
		for {
			select {
			case <-p.stop:
				if shown {
					fmt.Fprint(os.Stderr, "\r\033[K")
				}
				return
			case <-t.C:
				shown = true
				fmt.Fprintf(os.Stderr, "\r\033[Krunning %.1f s, %d rows (Ctrl-C cancels)", time.Since(start).Seconds(), p.rows.Load())
				t.Reset(200 * time.Millisecond)
			}
		}
	}()
	return p
}

func (p *progress) end() {
	select {
	case <-p.done:
	default:
		close(p.stop)
		<-p.done
	}
}
