package staff

import (
	"log/slog"
	"time"
)

// Store is the handler's store interface, for fakes in tests.
type Store = store

// NewWithStore builds a Handler on st, as New does on DynamoDB.
func NewWithStore(cfg Config, region string, st Store, now func() time.Time, log *slog.Logger) *Handler {
	return newHandler(cfg, region, st, now, log)
}
