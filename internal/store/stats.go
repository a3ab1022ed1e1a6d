package store

import (
	"context"
	"fmt"

	"github.com/lanyard-id/lanyard"
)

var _ lanyard.StatsService = (*DB)(nil)

// Stats counts mobile IDs by state and the mail waiting in the outbox.
func (db *DB) Stats(ctx context.Context) (*lanyard.Stats, error) {
	st := &lanyard.Stats{MobileIDs: map[lanyard.MobileIDState]int{}}
	type count struct {
		state string
		n     int
	}
	counts, err := queryAll(ctx, db, `SELECT state, COUNT(*) FROM mobile_ids GROUP BY state`, nil, func(s scanner) (count, error) {
		var c count
		return c, s.Scan(&c.state, &c.n)
	})
	if err != nil {
		return nil, fmt.Errorf("count mobile IDs: %w", err)
	}
	for _, c := range counts {
		st.MobileIDs[lanyard.MobileIDState(c.state)] = c.n
	}
	err = db.queryRow(ctx, `SELECT COUNT(*), COALESCE(SUM(CASE WHEN attempts > 0 THEN 1 ELSE 0 END), 0) FROM outbox WHERE sent_at = 0`).
		Scan(&st.OutboxPending, &st.OutboxFailing)
	if err != nil {
		return nil, fmt.Errorf("count the outbox: %w", err)
	}
	return st, nil
}
