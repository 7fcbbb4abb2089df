package sla

import (
	"strings"
	"testing"
)

func TestZoneFromEnv(t *testing.T) {
	env := func(v string) func(string) string {
		return func(k string) string {
			if k == "CLINIC_TIMEZONE" {
				return v
			}
			return ""
		}
	}
	if loc, err := ZoneFromEnv(env("")); loc != nil || err != nil {
		t.Errorf("unset: %v, %v; want nil, nil (UTC)", loc, err)
	}
	if loc, err := ZoneFromEnv(env(" America/New_York ")); err != nil || loc.String() != "America/New_York" {
		t.Errorf("America/New_York: %v, %v", loc, err)
	}
	if _, err := ZoneFromEnv(env("Mars/Olympus")); err == nil || !strings.Contains(err.Error(), "CLINIC_TIMEZONE") {
		t.Errorf("Mars/Olympus: error %v, want one naming CLINIC_TIMEZONE", err)
	}
}
