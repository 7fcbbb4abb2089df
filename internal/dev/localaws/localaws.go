// Package localaws starts the real local AWS API emulators for tests and the
// dev stack: dynalite for DynamoDB, aws-ses-v2-local for SES v2,
// cognito-local for Cognito user pools and the AWS Lambda Runtime Interface
// Emulator for running a function binary.
//
// Every emulator is a child process bound to 127.0.0.1 only, in its own
// process group, and (on Linux) killed by the kernel if the process that
// started it dies, so a crashed test binary leaves nothing listening. The
// Node emulators come from infra/node_modules (npm ci --prefix infra) and the
// RIE from bin/aws-lambda-rie (both installed by make test); when they are
// missing the Start functions return an error wrapping ErrNotInstalled.
//
// Emulators keep their data in memory (cognito-local in a temporary directory
// removed by Stop): an emulator stopped and started again on the same port
// (to simulate an outage and its recovery) starts empty, so DynamoDB tables
// and user pools must be created again.
package localaws

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// ErrNotInstalled is wrapped by the errors of the Start functions when an
// emulator (or Node.js) is not installed on this machine.
var ErrNotInstalled = errors.New("local AWS emulator not installed")

// Options configures an emulator started by StartDynamo or StartSES.
type Options struct {
	// Port is the 127.0.0.1 port to listen on; 0 picks a free one.
	Port int
	// Log receives the emulator's stdout and stderr; nil discards them. The
	// last few KiB are kept either way and quoted in startup errors.
	Log io.Writer
}

const (
	// startTimeout bounds how long an emulator may take to accept connections.
	startTimeout = 30 * time.Second
	// portAttempts is how often a start on a picked free port is retried when
	// another process takes that port between picking and binding it.
	portAttempts = 3
	// exitPortInUse is the exit code of the infra/*.js emulator wrappers when
	// their port is taken.
	exitPortInUse = 3

	rieModule = "github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie@v0.0.0-20261030222936-bef5c4ba774d"
)

// portInUseError is the error of a start that failed because its port was
// taken.
type portInUseError struct {
	port  int
	cause error // may be nil
}

func (e *portInUseError) Error() string {
	msg := fmt.Sprintf("port %d on 127.0.0.1 is already in use", e.port)
	if e.cause != nil {
		msg += ": " + e.cause.Error()
	}
	return msg
}

func (e *portInUseError) Unwrap() error { return e.cause }

func isPortInUse(err error) bool {
	var p *portInUseError
	return errors.As(err, &p)
}

// ModuleRoot returns the directory of the nearest go.mod at or above the
// working directory: the checkout that holds infra/ and bin/.
func ModuleRoot() (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("module root: %w", err)
	}
	for dir := wd; ; {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("module root: no go.mod in %s or any parent", wd)
		}
		dir = parent
	}
}

// StartDynamo starts dynalite, an in-memory DynamoDB API, on 127.0.0.1.
// Tables are ACTIVE as soon as they are created. dynalite has no streams, no
// transactions and no TTL expiry. ctx bounds the startup only: the emulator
// runs until Stop or Kill.
func StartDynamo(ctx context.Context, opts Options) (*Emulator, error) {
	return startNode(ctx, nodeEmulator{name: "dynalite", script: "dynalite.js", pkg: "dynalite"}, opts)
}

// StartSES starts aws-ses-v2-local, an SES v2 API that captures mail in
// memory instead of sending it, on 127.0.0.1. GET /store lists the captured
// mail as JSON and POST /clear-store empties it. ctx bounds the startup only:
// the emulator runs until Stop or Kill.
func StartSES(ctx context.Context, opts Options) (*Emulator, error) {
	return startNode(ctx, nodeEmulator{name: "ses", script: "ses.js", pkg: "aws-ses-v2-local"}, opts)
}

// StartCognito starts cognito-local, a Cognito user pools API, on 127.0.0.1.
// Its tokens are RS256 JWTs with the issuer http://127.0.0.1:<port>/<poolId>,
// and its keys are served at /<poolId>/.well-known/jwks.json. Pools do not
// make email the username. Its data lives in a temporary directory that Stop
// removes. Talk to it with CognitoCall. ctx bounds the startup only: the
// emulator runs until Stop or Kill.
func StartCognito(ctx context.Context, opts Options) (*Emulator, error) {
	return startNode(ctx, nodeEmulator{name: "cognito", script: "cognito.js", pkg: "cognito-local", dataDir: true}, opts)
}

// nodeEmulator is one of the infra/*.js wrappers, which print
// "<name> listening on http://127.0.0.1:<port>" once they accept
// connections.
type nodeEmulator struct {
	name, script, pkg string
	// dataDir: the wrapper takes a directory for its data as its second
	// argument; a new temporary one is made for each start.
	dataDir bool
}

func startNode(ctx context.Context, n nodeEmulator, opts Options) (*Emulator, error) {
	root, err := ModuleRoot()
	if err != nil {
		return nil, fmt.Errorf("start %s: %w", n.name, err)
	}
	return startNodeIn(ctx, root, n, opts)
}

func startNodeIn(ctx context.Context, root string, n nodeEmulator, opts Options) (*Emulator, error) {
	infra := filepath.Join(root, "infra")
	if _, err := os.Stat(filepath.Join(infra, "node_modules", n.pkg, "package.json")); err != nil {
		return nil, fmt.Errorf("start %s: infra/node_modules/%s is missing: run `make test` or `npm ci --prefix infra`: %w", n.name, n.pkg, ErrNotInstalled)
	}
	node, err := nodeBinary()
	if err != nil {
		return nil, fmt.Errorf("start %s: %w", n.name, err)
	}
	return startOnPort(ctx, n.name, opts.Port, func(port int) (*Emulator, error) {
		args := []string{filepath.Join(infra, n.script), strconv.Itoa(port)}
		var dir string
		if n.dataDir {
			if dir, err = os.MkdirTemp("", "leadpipe-"+n.name+"-"); err != nil {
				return nil, fmt.Errorf("start %s: data directory: %w", n.name, err)
			}
			args = append(args, dir)
		}
		cmd := exec.Command(node, args...)
		cmd.Dir = root
		cmd.Env = nodeEnv()
		marker := fmt.Sprintf("%s listening on http://127.0.0.1:%d", n.name, port)
		e, err := launch(ctx, n.name, port, cmd, marker, opts.Log)
		if err != nil {
			if dir != "" {
				os.RemoveAll(dir)
			}
			return nil, err
		}
		e.dataDir = dir
		return e, nil
	})
}

// nodeBinary finds Node.js: $LEADPIPE_NODE if set, else node on PATH.
func nodeBinary() (string, error) {
	if p := os.Getenv("LEADPIPE_NODE"); p != "" {
		return p, nil
	}
	p, err := exec.LookPath("node")
	if err != nil {
		return "", fmt.Errorf("node (Node.js 20 or later) is not on PATH: %w", ErrNotInstalled)
	}
	return p, nil
}

// nodeEnv is the caller's environment without SMTP_TRANSPORT, which would
// make aws-ses-v2-local relay every captured mail to a real SMTP server, and
// with LEADPIPE_PARENT_PID naming this process, whose death the wrappers
// watch for.
func nodeEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "SMTP_TRANSPORT=") && !strings.HasPrefix(kv, "LEADPIPE_PARENT_PID=") {
			env = append(env, kv)
		}
	}
	return append(env, "LEADPIPE_PARENT_PID="+strconv.Itoa(os.Getpid()))
}

// startOnPort calls start with port, or with a free port when port is 0. A
// fixed port that is taken is an error naming it; a picked port that another
// process grabs before the emulator binds it is replaced by a new pick.
func startOnPort(ctx context.Context, name string, port int, start func(port int) (*Emulator, error)) (*Emulator, error) {
	if port != 0 {
		if err := checkFree(port); err != nil {
			return nil, fmt.Errorf("start %s: %w", name, err)
		}
		return start(port)
	}
	var err error
	for range portAttempts {
		var p int
		if p, err = freePort(); err != nil {
			return nil, fmt.Errorf("start %s: %w", name, err)
		}
		var e *Emulator
		e, err = start(p)
		if !isPortInUse(err) {
			return e, err
		}
	}
	return nil, err
}

// freePort returns a port on 127.0.0.1 that nothing listens on right now.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("pick a free port on 127.0.0.1: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// checkFree fails with a message naming port when something already listens
// on 127.0.0.1:port (or on every interface at that port).
func checkFree(port int) error {
	if port < 1 || port > 65535 {
		return fmt.Errorf("port %d is out of range", port)
	}
	l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		return &portInUseError{port: port, cause: err}
	}
	return l.Close()
}
