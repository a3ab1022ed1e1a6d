package web

import (
	"context"
	"time"

	"github.com/lanyard-id/lanyard"
	"github.com/prometheus/client_golang/prometheus"
)

// statsCollector reads the database's counts at each scrape, so every
// instance of a cluster reports the same totals.
type statsCollector struct {
	stats     lanyard.StatsService
	mobileIDs *prometheus.Desc
	pending   *prometheus.Desc
	failing   *prometheus.Desc
	up        *prometheus.Desc
}

func newStatsCollector(stats lanyard.StatsService) *statsCollector {
	return &statsCollector{
		stats:     stats,
		mobileIDs: prometheus.NewDesc("lanyard_mobile_ids", "Mobile IDs by state.", []string{"state"}, nil),
		pending:   prometheus.NewDesc("lanyard_outbox_pending", "Mail not yet sent.", nil, nil),
		failing:   prometheus.NewDesc("lanyard_outbox_failing", "Mail not yet sent whose last attempt failed.", nil, nil),
		up:        prometheus.NewDesc("lanyard_database_stats_up", "1 when the counts could be read from the database.", nil, nil),
	}
}

// Describe implements prometheus.Collector.
func (c *statsCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.mobileIDs
	ch <- c.pending
	ch <- c.failing
	ch <- c.up
}

// Collect implements prometheus.Collector.
func (c *statsCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	st, err := c.stats.Stats(ctx)
	if err != nil {
		ch <- prometheus.MustNewConstMetric(c.up, prometheus.GaugeValue, 0)
		return
	}
	ch <- prometheus.MustNewConstMetric(c.up, prometheus.GaugeValue, 1)
	for _, state := range []lanyard.MobileIDState{lanyard.MobileIDRegistered, lanyard.MobileIDActive, lanyard.MobileIDInactive, lanyard.MobileIDLocked, lanyard.MobileIDDeleted} {
		ch <- prometheus.MustNewConstMetric(c.mobileIDs, prometheus.GaugeValue, float64(st.MobileIDs[state]), string(state))
	}
	ch <- prometheus.MustNewConstMetric(c.pending, prometheus.GaugeValue, float64(st.OutboxPending))
	ch <- prometheus.MustNewConstMetric(c.failing, prometheus.GaugeValue, float64(st.OutboxFailing))
}
