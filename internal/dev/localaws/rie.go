package localaws

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
)

// RIEOptions configures a function run by StartRIE.
type RIEOptions struct {
	// Binary is the function's bootstrap: a Go handler built for linux with
	// -tags lambda.norpc. It runs with its own directory as working directory.
	Binary string
	// RIEPath is the aws-lambda-rie binary; empty means bin/aws-lambda-rie
	// under ModuleRoot.
	RIEPath string
	// Env is the function's environment ("KEY=value"). The caller's own
	// environment is not passed on, only PATH, so a developer's AWS
	// credentials or profile never reach a function under test. The RIE reads
	// AWS_LAMBDA_FUNCTION_TIMEOUT (whole seconds, default 300) for the
	// invocation deadline, and adds AWS_LAMBDA_FUNCTION_NAME and the like
	// unless they are set here.
	Env []string
	// Port is the 127.0.0.1 port of the invoke API; 0 picks a free one. The
	// Runtime API the bootstrap talks to always gets a free port of its own.
	Port int
	// Log receives the RIE's and the function's stdout and stderr (START,
	// END and REPORT lines, the function's logs); nil discards them.
	Log io.Writer
}

// StartRIE starts the AWS Lambda Runtime Interface Emulator running
// opts.Binary, both of its APIs on 127.0.0.1. Call Invoke on the result. The
// RIE starts the bootstrap on the first invocation and keeps it for the next
// ones; it runs one invocation at a time. ctx bounds the startup only.
func StartRIE(ctx context.Context, opts RIEOptions) (*Emulator, error) {
	const name = "rie"
	rie := opts.RIEPath
	if rie == "" {
		root, err := ModuleRoot()
		if err != nil {
			return nil, fmt.Errorf("start %s: %w", name, err)
		}
		rie = filepath.Join(root, "bin", "aws-lambda-rie")
		if _, err := os.Stat(rie); err != nil {
			return nil, fmt.Errorf("start %s: bin/aws-lambda-rie is missing: run `make test` or `GOBIN=\"$PWD/bin\" go install %s`: %w", name, rieModule, ErrNotInstalled)
		}
	}
	bootstrap, err := filepath.Abs(opts.Binary)
	if err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	if fi, err := os.Stat(bootstrap); err != nil || fi.IsDir() {
		return nil, fmt.Errorf("start %s: bootstrap %q is not a file", name, opts.Binary)
	}
	env := append([]string{"PATH=" + os.Getenv("PATH")}, opts.Env...)
	return startOnPort(ctx, name, opts.Port, func(port int) (*Emulator, error) {
		runtimePort, err := freePort()
		if err != nil {
			return nil, fmt.Errorf("start %s: %w", name, err)
		}
		cmd := exec.Command(rie,
			"--runtime-api-address", "127.0.0.1:"+strconv.Itoa(runtimePort),
			"--runtime-interface-emulator-address", "127.0.0.1:"+strconv.Itoa(port),
			bootstrap)
		cmd.Dir = filepath.Dir(bootstrap)
		cmd.Env = env
		// The RIE prints no line once it listens: readiness is its port.
		return launch(ctx, name, port, cmd, "", opts.Log)
	})
}

// Invoke runs one invocation of the function behind an emulator from
// StartRIE and returns its response payload. Like the RIE, it reports a
// failed invocation as a payload, not as an error: a handler error (or an
// undecodable event) answers 200 with {"errorMessage":...,"errorType":...},
// and a timeout answers 200 with the plain text "Task timed out after N.00
// seconds" (the RIE then kills the runtime and starts a fresh one on the next
// invocation). Only a status other than 200 or a transport failure is an
// error.
func (e *Emulator) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	url := e.Endpoint + "/2015-03-31/functions/function/invocations"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(payload))
	if err != nil {
		return nil, fmt.Errorf("invoke %s: %w", e.Name, err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("invoke %s: %w", e.Name, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("invoke %s: read response: %w", e.Name, err)
	}
	if resp.StatusCode != http.StatusOK {
		return body, fmt.Errorf("invoke %s: %s: %s", e.Name, resp.Status, bytes.TrimSpace(body))
	}
	return body, nil
}
