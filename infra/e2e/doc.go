// Package e2e holds the browser test of the whole pipeline: it starts the
// dev stack (`go run ./infra/devstack`) on free loopback ports, drives the
// example website (examples/website) in headless Chromium with
// browser.mjs, then the staff inbox (internal/staff/web) with staff.mjs on
// the same stack (a lead in crisis, from the public form to contacted,
// and nothing left after sign-out), and then checks DynamoDB and the SES
// inbox of the stack. lib.mjs holds what the scripts share.
//
// The test is behind the e2e build tag, so `go test ./...` does not run it.
// Run it with `make e2e`, which installs Chromium when it is missing, or
// by hand:
//
//	npm ci --prefix infra
//	LEADPIPE_REQUIRE_EMULATORS=1 go test -count=1 -tags e2e ./infra/e2e/...
//
// Screenshots land in infra/e2e/artifacts.
//
// One check needs no browser and runs in every `go test ./...`: the
// site's choice fields offer exactly the values of lead's choice lists
// (site_test.go).
package e2e
