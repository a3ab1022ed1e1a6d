package main

import (
	"github.com/lanyard-id/lanyard/internal/store"
	"github.com/prometheus/client_golang/prometheus"
)

// registerDatabaseMetrics exports the statements, transactions, commits
// and round trips this instance made. On SQLite, transactions over commits is how
// many a commit took on average (commit groups).
func registerDatabaseMetrics(registry *prometheus.Registry, db *store.DB) {
	for _, c := range []struct {
		name, help string
		get        func(store.Counters) int64
	}{
		{"lanyard_db_statements_total", "Statements run, in transactions and outside.", func(c store.Counters) int64 { return c.Statements }},
		{"lanyard_db_transactions_total", "Transactions begun.", func(c store.Counters) int64 { return c.Transactions }},
		{"lanyard_db_commits_total", "Commits of the database; on SQLite one may take several transactions.", func(c store.Counters) int64 { return c.Commits }},
		{"lanyard_db_round_trips_total", "Answers waited for from PostgreSQL: a transaction sends several statements at once; 0 on SQLite.", func(c store.Counters) int64 { return c.RoundTrips }},
	} {
		registry.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: c.name, Help: c.help},
			func() float64 { return float64(c.get(db.Counters())) }))
	}
}
