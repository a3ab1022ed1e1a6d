package lanyard

import "context"

// Stats are counts of the database that operators watch: the mobile IDs by
// state and the mail waiting in the outbox.
type Stats struct {
	MobileIDs map[MobileIDState]int
	// OutboxPending is mail not yet sent; OutboxFailing the part of it
	// whose last attempt failed.
	OutboxPending int
	OutboxFailing int
}

// StatsService counts, for /metrics.
type StatsService interface {
	Stats(ctx context.Context) (*Stats, error)
}
