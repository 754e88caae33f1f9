package main

import (
	"github.com/spf13/cobra"

	"github.com/tracewire/tracewire/adapters"
	rep "github.com/tracewire/tracewire/report"
)

func init() { subcommands = append(subcommands, newAdaptersCmd) }

func newAdaptersCmd(e *env) *cobra.Command {
	var dir, lang string
	load := func() (*adapters.DB, error) {
		if dir != "" {
			return adapters.LoadDir(dir)
		}
		return adapters.Default()
	}
	cmd := &cobra.Command{
		Use:   "adapters",
		Short: "Document the tracker adapter database",
		Long: `Adapters lists the trackers and adapters tracewire knows ("list") and shows one
tracker or adapter in full ("show SLUG", SLUG being a tracker slug such as google or an
adapter ID such as google/app-measurement). The file format is documented in
adapters/FORMAT.md.`,
	}
	cmd.PersistentFlags().StringVar(&dir, "adapters", "", "directory of adapter files to use instead of the embedded database")
	cmd.PersistentFlags().StringVar(&lang, "lang", "en", "language of labels and descriptions: en or de")
	cmd.PersistentPreRunE = func(*cobra.Command, []string) error { return checkLang(lang) }
	list := &cobra.Command{
		Use:   "list",
		Short: "List the adapters (name, endpoints, properties)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			db, err := load()
			if err != nil {
				return err
			}
			return rep.WriteAdapterList(e.stdout, db, lang)
		},
	}
	show := &cobra.Command{
		Use:   "show SLUG",
		Short: "Show a tracker (all its adapters) or one adapter",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			db, err := load()
			if err != nil {
				return err
			}
			return rep.WriteAdapterInfo(e.stdout, db, args[0], lang)
		},
	}
	cmd.AddCommand(list, show)
	return cmd
}
