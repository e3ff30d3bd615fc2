package main

// runClient handles the client subcommands (kernels, exec, health). It
// reports false for a command it does not know.
func runClient(args []string) (int, bool) {
	return 0, false
}
