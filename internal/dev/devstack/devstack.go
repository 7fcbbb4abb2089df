// Package devstack runs the whole pipeline on one machine, as `make dev`
// does (go run ./infra/devstack): dynalite with the leads table made from
// template.yaml, aws-ses-v2-local as the staff inbox, the stream proxy of
// package localstream delivering new leads to the notify handler, and a
// local HTTP API that serves the template's routes with the same v2 events,
// CORS and handler code as the deployed API, plus the example website.
//
// Everything listens on 127.0.0.1 only. The emulators are child processes
// in process groups of their own that the kernel kills if this process
// dies; Run stops them all when its context ends.
package devstack

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/clinicleads/leadpipe/internal/dev/localaws"
	"github.com/clinicleads/leadpipe/internal/dev/localstream"
	"github.com/clinicleads/leadpipe/internal/dev/samtemplate"
	"github.com/clinicleads/leadpipe/internal/intake"
	"github.com/clinicleads/leadpipe/internal/lead"
)

// forms are the intake functions of template.yaml, by logical ID, with the
// form each one decodes (as functions/contact and functions/consultation).
var forms = map[string]func() lead.Form{
	"ContactFunction":      func() lead.Form { return new(lead.Contact) },
	"ConsultationFunction": func() lead.Form { return new(lead.Consultation) },
}

// awsEnv is the AWS environment the handlers are built with: the region and
// dummy credentials the emulators accept. Real credentials in the caller's
// environment are overridden, so nothing the dev stack runs can reach AWS.
func awsEnv(dynamoEndpoint, sesEndpoint string) map[string]string {
	return map[string]string{
		"AWS_REGION":                "us-east-1",
		"AWS_DEFAULT_REGION":        "us-east-1",
		"AWS_ACCESS_KEY_ID":         "local",
		"AWS_SECRET_ACCESS_KEY":     "local",
		"AWS_SESSION_TOKEN":         "",
		"AWS_ENDPOINT_URL":          "",
		"AWS_ENDPOINT_URL_DYNAMODB": dynamoEndpoint,
		"AWS_ENDPOINT_URL_SESV2":    sesEndpoint,
	}
}

const shutdownTimeout = 5 * time.Second

// Run starts the stack and keeps it running until ctx ends, then stops
// everything it started, and returns nil. Any failure to start is returned
// after whatever had started is stopped again.
func Run(ctx context.Context, cfg Config) (err error) {
	if err := cfg.check(); err != nil {
		return err
	}
	out, logw := orDiscard(cfg.Out), orDiscard(cfg.Log)
	log := slog.New(slog.NewTextHandler(logw, nil))

	var stops []func() error
	defer func() {
		for i := len(stops) - 1; i >= 0; i-- {
			err = errors.Join(err, stops[i]())
		}
	}()

	// Fail on a taken port before starting anything, naming the variable.
	for _, p := range portVars {
		if p.name == "LEADPIPE_API_PORT" {
			continue // bound below and kept
		}
		if err := checkPort(*p.get(&cfg), p.name); err != nil {
			return err
		}
	}
	apiLn, err := listen(cfg.APIPort, "LEADPIPE_API_PORT")
	if err != nil {
		return err
	}
	stops = append(stops, func() error { apiLn.Close(); return nil })
	apiURL := "http://" + apiLn.Addr().String()
	apiPort := apiLn.Addr().(*net.TCPAddr).Port

	root, err := localaws.ModuleRoot()
	if err != nil {
		return err
	}
	tmpl, err := samtemplate.LoadFile(filepath.Join(root, samtemplate.DefaultFile))
	if err != nil {
		return err
	}
	routes, err := httpRoutes(tmpl)
	if err != nil {
		return err
	}
	cors, err := httpAPICORS(tmpl)
	if err != nil {
		return err
	}
	cors.Origins = map[string]bool{}
	origins := cfg.AllowedOrigins
	if len(origins) == 0 {
		origins = []string{apiURL, "http://localhost:" + strconv.Itoa(apiPort)}
	}
	for _, o := range origins {
		cors.Origins[o] = true
	}

	dyn, err := localaws.StartDynamo(ctx, localaws.Options{Port: cfg.DynamoPort, Log: logw})
	if err != nil {
		return fmt.Errorf("start DynamoDB (dynalite): %w", err)
	}
	stops = append(stops, dyn.Stop)
	ses, err := localaws.StartSES(ctx, localaws.Options{Port: cfg.SESPort, Log: logw})
	if err != nil {
		return fmt.Errorf("start SES (aws-ses-v2-local): %w", err)
	}
	stops = append(stops, ses.Stop)

	if err := createTable(ctx, tmpl, dyn.Endpoint, cfg.Table); err != nil {
		return err
	}

	// The stream is started before the notify handler exists, because the
	// handler's DynamoDB endpoint is the stream's; deliveries wait for it.
	notify := &relay{ready: make(chan struct{})}
	sc, err := localstream.ConfigFromTemplate(tmpl, samtemplate.LeadsTable, samtemplate.NotifyFunction, cfg.Table)
	if err != nil {
		return err
	}
	sc.Target, sc.Port, sc.Deliver, sc.Log = dyn.Endpoint, cfg.StreamPort, notify.deliver, log
	sc.DrainTimeout = 3 * time.Second // Ctrl-C should not wait long for a failing email
	stream, err := localstream.Start(sc)
	if err != nil {
		return fmt.Errorf("start the stream proxy (LEADPIPE_STREAM_PORT): %w", err)
	}
	stops = append(stops, stream.Close)

	// The function code reads its AWS settings from the process
	// environment, as on Lambda; they stay set while the stack runs.
	restore := setEnv(awsEnv(stream.Endpoint(), ses.Endpoint))
	stops = append(stops, func() error { restore(); return nil })

	fnEnv := map[string]string{}
	for k, v := range cfg.Env {
		fnEnv[k] = v
	}
	fnEnv["LEADS_TABLE"] = cfg.Table
	if fnEnv["THANK_YOU_URL"] == "" {
		fnEnv["THANK_YOU_URL"] = apiURL + "/thank-you.html"
	}
	getenv := func(k string) string { return fnEnv[k] }

	a := &api{routes: map[string]*route{}, cors: cors, log: log, now: time.Now, inbox: ses.Endpoint + "/"}
	for _, rs := range routes {
		newForm, ok := forms[rs.Function]
		if !ok {
			return fmt.Errorf("template route %s goes to function %s, which the dev stack cannot run", rs.RouteKey(), rs.Function)
		}
		icfg, err := intake.ConfigFromEnv(getenv)
		if err != nil {
			return fmt.Errorf("%s: %w", rs.Function, err)
		}
		h, err := intake.New(icfg, newForm)
		if err != nil {
			return fmt.Errorf("%s: %w", rs.Function, err)
		}
		a.routes[rs.RouteKey()] = &route{routeSpec: rs, handle: h.Handle}
	}

	newNotify := cfg.NewNotifier
	if newNotify == nil {
		newNotify = newNotifier
	}
	deliver, err := newNotify(getenv)
	if err != nil {
		return fmt.Errorf("NotifyFunction: %w", err)
	}
	notify.set(deliver)

	siteDir := cfg.SiteDir
	if siteDir == "" {
		siteDir = filepath.Join(root, "examples", "website")
	}
	if site, err := os.OpenRoot(siteDir); err == nil {
		a.site = site
		stops = append(stops, site.Close)
	} else {
		log.Warn("no example website; serving a placeholder page at /", "dir", siteDir)
	}

	srv := &http.Server{
		Handler:           a,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(apiLn) }()
	stops = append(stops, func() error {
		sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
		defer cancel()
		if err := srv.Shutdown(sctx); err != nil {
			srv.Close()
		}
		return nil
	})

	fmt.Fprintf(out, "leadpipe dev stack, everything on 127.0.0.1 (Ctrl-C stops it all)\n")
	fmt.Fprintf(out, "  website and API   %s/\n", apiURL)
	for _, rs := range routes {
		fmt.Fprintf(out, "                    %s%s  (%s)\n", rs.Method+" "+apiURL, rs.Path, rs.Function)
	}
	fmt.Fprintf(out, "  staff inbox       %s/  (aws-ses-v2-local)\n", ses.Endpoint)
	fmt.Fprintf(out, "  DynamoDB          %s  (dynalite, table %q)\n", dyn.Endpoint, cfg.Table)
	fmt.Fprintf(out, "  stream proxy      %s  (the functions' DynamoDB endpoint; delivers new leads to notify)\n", stream.Endpoint())
	fmt.Fprintln(out, ReadyLine)
	if cfg.Ready != nil {
		cfg.Ready(Endpoints{API: apiURL, SES: ses.Endpoint, Dynamo: dyn.Endpoint, Stream: stream.Endpoint(), Table: cfg.Table})
	}

	select {
	case <-ctx.Done():
		return nil
	case err := <-served:
		return fmt.Errorf("local HTTP API: %w", err)
	}
}

func orDiscard(w io.Writer) io.Writer {
	if w == nil {
		return io.Discard
	}
	return w
}

// checkPort fails with a message naming the variable when port is taken.
func checkPort(port int, name string) error {
	if port == 0 {
		return nil
	}
	l, err := listen(port, name)
	if err != nil {
		return err
	}
	return l.Close()
}

func listen(port int, name string) (net.Listener, error) {
	l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		return nil, fmt.Errorf("port %d on 127.0.0.1 is already in use (%v): stop what listens there, or set %s to another port", port, err, name)
	}
	return l, nil
}

func createTable(ctx context.Context, tmpl *samtemplate.Template, endpoint, table string) error {
	in, err := tmpl.CreateTableInput(samtemplate.LeadsTable, table)
	if err != nil {
		return err
	}
	db := dynamodb.NewFromConfig(aws.Config{
		Region:      "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider("local", "local", ""),
	}, func(o *dynamodb.Options) { o.BaseEndpoint = aws.String(endpoint) })
	if _, err := db.CreateTable(ctx, in); err != nil {
		return fmt.Errorf("create table %s: %w", table, err)
	}
	// dynalite answers before the table takes writes.
	for deadline := time.Now().Add(10 * time.Second); ; {
		out, err := db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: in.TableName})
		if err == nil && out.Table.TableStatus == types.TableStatusActive {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("table %s not ACTIVE after 10 s (%v)", table, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// envMu serialises changes of the process environment.
var envMu sync.Mutex

// setEnv sets vars (an empty value unsets) and returns a function that
// puts the previous values back.
func setEnv(vars map[string]string) (restore func()) {
	envMu.Lock()
	defer envMu.Unlock()
	type prior struct {
		v  string
		ok bool
	}
	saved := map[string]prior{}
	for k, v := range vars {
		old, ok := os.LookupEnv(k)
		saved[k] = prior{old, ok}
		if v == "" {
			os.Unsetenv(k)
		} else {
			os.Setenv(k, v)
		}
	}
	return func() {
		envMu.Lock()
		defer envMu.Unlock()
		for k, p := range saved {
			if p.ok {
				os.Setenv(k, p.v)
			} else {
				os.Unsetenv(k)
			}
		}
	}
}

// relay lets the stream start before the notify handler exists.
type relay struct {
	ready chan struct{}
	once  sync.Once
	d     localstream.Deliver
}

func (r *relay) set(d localstream.Deliver) {
	r.once.Do(func() {
		r.d = d
		close(r.ready)
	})
}

func (r *relay) deliver(ctx context.Context, ev events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
	select {
	case <-r.ready:
	case <-ctx.Done():
		return events.DynamoDBEventResponse{}, ctx.Err()
	}
	// The notify handler reads its request id from the Lambda context.
	ctx = lambdacontext.NewContext(ctx, &lambdacontext.LambdaContext{
		AwsRequestID:       newUUID(),
		InvokedFunctionArn: "arn:aws:lambda:us-east-1:000000000000:function:" + samtemplate.NotifyFunction,
	})
	return r.d(ctx, ev)
}
