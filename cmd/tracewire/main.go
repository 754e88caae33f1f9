// Command tracewire analyses network captures and HAR files for personal
// data sent to tracking companies. See README.md.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"

	"github.com/tracewire/tracewire"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	err := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		var ee *exitError
		if (!errors.As(err, &ee) || ee.err != nil) && err != tracewire.ErrIncomplete {
			fmt.Fprintln(os.Stderr, "tracewire:", err)
		}
		os.Exit(exitStatus(err))
	}
}

// Exit statuses, the same in every command; exitHelp says when each is
// given.
const (
	exitIncomplete = 1
	exitFailed     = 2
)

const exitHelp = `Exit status: 0 when everything was read and analysed; 1 when the command
finished but not everything could be analysed (a failed analysis in a batch,
entries skipped as malformed, a capture cut short or damaged and read up to
there: the warnings name them); 2 for a usage error (a missing argument, an
unknown flag or command, shown with the usage line; an unknown value such as
--lang fr; an output that is an input or lies in a missing folder) or an
input that cannot be read (missing, empty, not a capture or HAR, a HAR broken
before its end, a capture without one readable packet), and for any other
error that stopped the command.`

// exitError ends the program with a status; err, when set, is printed,
// else the command has already reported what went wrong.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err != nil {
		return e.err.Error()
	}
	return fmt.Sprintf("exit status %d", e.code)
}

func (e *exitError) Unwrap() error { return e.err }

// exitStatus is the program's exit status for what run returned.
func exitStatus(err error) int {
	if err == nil {
		return 0
	}
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	if errors.Is(err, tracewire.ErrIncomplete) {
		return exitIncomplete
	}
	return exitFailed
}

// run is the whole program, testable: arguments in, output to the writers.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	root := newRootCmd(&env{stdin: stdin, stdout: stdout, stderr: stderr})
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	c, err := root.ExecuteContextC(ctx)
	var ee *exitError
	if err != nil && !errors.As(err, &ee) && strings.HasPrefix(err.Error(), "unknown command ") {
		return usageError(c, err)
	}
	return err
}
