package sla

import (
	"fmt"
	"strings"
	"time"
)

// ZoneFromEnv reads CLINIC_TIMEZONE with getenv: the IANA zone the clinic's
// hours, dates and shown times are in, or nil (UTC) when unset. Every
// function reads it here, so they agree on what a valid zone is. The
// binaries embed time/tzdata, since Lambda's runtime has no zoneinfo.
func ZoneFromEnv(getenv func(string) string) (*time.Location, error) {
	tz := strings.TrimSpace(getenv("CLINIC_TIMEZONE"))
	if tz == "" {
		return nil, nil
	}
	loc, err := time.LoadLocation(tz)
	if err != nil {
		return nil, fmt.Errorf("CLINIC_TIMEZONE must be an IANA time zone such as America/New_York")
	}
	return loc, nil
}
