// Command leadctl is the operations command of a leadpipe stack: it checks
// that a deployment will get leads to the clinic (doctor), proves it end
// to end (smoke), exports leads, erases a person's data on request,
// resends an email, and works the notify function's dead-letter queue.
//
// It uses the operator's normal AWS credentials and region (the SDK's
// default configuration: profiles, SSO, environment) and finds the
// stack's resources from its CloudFormation outputs. With --local every
// command works on the `make dev` stack instead. Leads are read and
// written only through internal/dynamo's store methods, so the item
// schema cannot drift; emails are only ever sent by the notify function.
//
// No Lambda function may import this package or what it alone links
// (functions/size_test.go checks).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	a := &app{in: os.Stdin, out: os.Stdout, errw: os.Stderr, getenv: os.Getenv, now: time.Now, dir: "."}
	code := a.run(ctx, os.Args[1:])
	stop()
	os.Exit(code)
}

// app is one run of leadctl: its streams, environment and clock, so tests
// run it in process.
type app struct {
	in        io.Reader
	out, errw io.Writer
	getenv    func(string) string
	now       func() time.Time
	// dir is where samconfig.toml is looked for.
	dir string
}

// command is one subcommand.
type command struct {
	name, args, summary string
	run                 func(a *app, ctx context.Context, args []string) error
}

var commands []command

func init() {
	// Assigned here, not in the declaration: the commands refer to
	// usage, which refers to commands.
	commands = []command{
		{"doctor", "", "check that the stack will get leads to the clinic (pass/warn/fail, exit 1 on a fail)", (*app).doctor},
		{"smoke", "[--timeout D]", "submit a marked test lead, wait for its staff email, erase it", (*app).smoke},
		{"export", "--since DATE [--until DATE] [--kind K] [--status S] [--format csv|jsonl] [--include-health] [--out FILE]", "stream leads to a file or stdout (audited)", (*app).export},
		{"erase", "--email ADDRESS | --id ID [--reason TEXT] [--yes]", "erase a person's leads and claims, leaving an audit tombstone", (*app).erase},
		{"resend", "--id ID [--confirmation]", "have the notify function send a lead's staff email (or confirmation) again", (*app).resend},
		{"dlq", "drain|replay [--max N]", "work the dead-letter queue: delete handled pointers, or re-drive their leads", (*app).dlq},
	}
}

// Exit codes.
const (
	exitOK    = 0
	exitFail  = 1 // the operation failed, or a check failed
	exitUsage = 2
)

// usageError is a mistake on the command line.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

// errReported: the command printed why it failed; exit 1 without more.
var errReported = errors.New("reported")

func (a *app) run(ctx context.Context, args []string) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		a.usage(a.out)
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	for _, c := range commands {
		if c.name != args[0] {
			continue
		}
		err := c.run(a, ctx, args[1:])
		var ue usageError
		switch {
		case err == nil:
			return exitOK
		case errors.Is(err, flag.ErrHelp):
			return exitOK
		case errors.As(err, &ue):
			fmt.Fprintf(a.errw, "leadctl %s: %v\nRun leadctl %s --help for its options.\n", c.name, ue.msg, c.name)
			return exitUsage
		case errors.Is(err, errReported):
			return exitFail
		}
		fmt.Fprintf(a.errw, "leadctl %s: %s\n", c.name, explain(err))
		return exitFail
	}
	fmt.Fprintf(a.errw, "leadctl: unknown command %q\n\n", args[0])
	a.usage(a.errw)
	return exitUsage
}

func (a *app) usage(w io.Writer) {
	fmt.Fprintln(w, "leadctl: operations for a leadpipe stack")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Usage: leadctl COMMAND [options]")
	fmt.Fprintln(w)
	for _, c := range commands {
		fmt.Fprintf(w, "  %-8s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Every command takes --stack NAME (default: stack_name in ./samconfig.toml), --region,")
	fmt.Fprintln(w, "--profile, --output text|json, and --local (the `make dev` stack instead of AWS).")
	fmt.Fprintln(w, "leadctl COMMAND --help shows a command's options.")
}

// common are the options every command takes.
type common struct {
	stack, region, profile, output string
	local                          bool
}

// flags returns a command's flag set with the common options.
func (a *app) flags(name, args, about string, c *common) *flag.FlagSet {
	fs := flag.NewFlagSet("leadctl "+name, flag.ContinueOnError)
	fs.SetOutput(a.errw)
	fs.StringVar(&c.stack, "stack", "", "the stack's name (default: stack_name in ./samconfig.toml)")
	fs.StringVar(&c.region, "region", "", "AWS region (default: AWS_REGION, else samconfig.toml's region, else the profile's)")
	fs.StringVar(&c.profile, "profile", "", "AWS profile (default: AWS_PROFILE, else the default profile)")
	fs.StringVar(&c.output, "output", "text", "text, or json for scripts")
	fs.BoolVar(&c.local, "local", false, "work on the make dev stack (its LEADPIPE_* ports) instead of AWS")
	fs.Usage = func() {
		w := fs.Output()
		fmt.Fprintf(w, "Usage: leadctl %s %s\n\n%s\n\nOptions:\n", name, args, about)
		fs.PrintDefaults()
	}
	return fs
}

// parse parses args and checks the common options. Positional arguments
// are refused unless the command takes them (then it reads fs.Args()).
func parse(fs *flag.FlagSet, c *common, args []string, positional bool) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err.Error()}
	}
	if !positional && fs.NArg() > 0 {
		return usagef("unexpected argument %q", fs.Arg(0))
	}
	if c.output != "text" && c.output != "json" {
		return usagef("--output must be text or json, not %q", c.output)
	}
	if c.local && (c.stack != "" || c.region != "" || c.profile != "") {
		return usagef("--local works on the dev stack; it takes no --stack, --region or --profile")
	}
	return nil
}

func (c common) json() bool { return c.output == "json" }

// oneLine reports whether s is a single line of printable text.
func oneLine(s string) bool {
	return !strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f })
}
