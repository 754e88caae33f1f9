package main

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/tracewire/tracewire/i18n"
	"github.com/tracewire/tracewire/internal/version"
)

// env is what every subcommand gets instead of touching os.Std*.
type env struct {
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
}

// subcommands is filled by the init functions of the files that define the
// subcommands, one file each, so adding a command touches no other file.
var subcommands []func(*env) *cobra.Command

func newRootCmd(e *env) *cobra.Command {
	root := &cobra.Command{
		Use:           "tracewire",
		Short:         "Prove which personal data an app or backend sent to which tracking company",
		Long:          "tracewire turns network captures (pcap, pcapng, with TLS key logs) into HAR, enriches them with stack traces and data provenance, finds the personal data each request sent to trackers, and writes reports.\n\n" + exitHelp,
		Version:       version.Version,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	for _, mk := range subcommands {
		c := mk(e)
		if c.Long != "" {
			c.Long += "\n\n" + exitHelp
		}
		root.AddCommand(c)
	}
	// A missing argument or an unknown flag is a usage error: exit status
	// 2, with the command's usage line.
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error { return usageError(c, plainFlagError(err)) })
	var withUsage func(c *cobra.Command)
	withUsage = func(c *cobra.Command) {
		if check := c.Args; check != nil {
			c.Args = func(c *cobra.Command, args []string) error {
				if err := check(c, args); err != nil {
					return usageError(c, err)
				}
				return nil
			}
		}
		for _, sub := range c.Commands() {
			withUsage(sub)
		}
	}
	withUsage(root)
	return root
}

// usageError is err with the command's usage line, as exit status 2.
func usageError(c *cobra.Command, err error) error {
	use := c.UseLine()
	if c.HasAvailableSubCommands() && !c.Runnable() {
		use = c.CommandPath() + " [command]"
	}
	msg := fmt.Errorf("%w\nUsage: %s\nRun '%s --help' for more", err, use, c.CommandPath())
	if c.HasParent() {
		// main prints "tracewire: " before it.
		msg = fmt.Errorf("%s: %w", strings.TrimPrefix(c.CommandPath(), c.Root().Name()+" "), msg)
	}
	return &exitError{code: exitFailed, err: msg}
}

// plainFlagError says what a flag wants instead of which Go parser
// refused its value ("strconv.ParseInt: parsing "x": invalid syntax").
func plainFlagError(err error) error {
	var bad *pflag.InvalidValueError
	if !errors.As(err, &bad) {
		return err
	}
	var ne *strconv.NumError
	isNum := errors.As(err, &ne)
	var want string
	switch {
	case isNum && errors.Is(ne.Err, strconv.ErrRange):
		want = "out of range"
	case isNum && ne.Func == "ParseBool":
		want = "want true or false"
	case isNum:
		want = "not a number"
	case bad.GetFlag().Value.Type() == "duration":
		want = "want a duration such as 30s or 5m"
	default:
		return err
	}
	return fmt.Errorf("invalid argument %q for %q flag: %s", bad.GetValue(), "--"+bad.GetFlag().Name, want)
}

// usageErrorf is a usage error: exit status 2.
func usageErrorf(format string, args ...any) error {
	return &exitError{code: exitFailed, err: fmt.Errorf(format, args...)}
}

// checkLang refuses a language the reports and labels do not have.
func checkLang(lang string) error {
	if !slices.Contains(i18n.Languages, lang) {
		return usageErrorf("--lang %q: not a supported language; want one of %s", lang, strings.Join(i18n.Languages, ", "))
	}
	return nil
}
