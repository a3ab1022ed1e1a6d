package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/lanyard-id/lanyard"
	"github.com/lanyard-id/lanyard/internal/auditlog"
)

func runAudit(ctx context.Context, e env, args []string) error {
	return runSubcommand(ctx, e, "audit", args, map[string]func(context.Context, env, []string) error{
		"verify": runAuditVerify,
	})
}

// errReported is a failure whose one line the command printed itself.
var errReported = errors.New("reported")

// runAuditVerify checks the audit log's chain and the signatures of its
// checkpoints, from the database or from an export of Admin › Audit log,
// against the audit key of this installation.
func runAuditVerify(ctx context.Context, e env, args []string) error {
	const usage = "audit verify [--file EXPORT]"
	var file string
	setup := func(fs flagSet) {
		fs.StringVar(&file, "file", "", "an export of the audit log (CSV from Admin › Audit log) to check instead of the database")
	}
	return adminCommand(ctx, e, "audit verify", usage, args, 0, 0, setup, func(a *app, _ []string) error {
		if err := a.openCA(ctx); err != nil {
			return err
		}
		var src auditlog.Source = a.db
		if file != "" {
			f, err := os.Open(file)
			if err != nil {
				return fmt.Errorf("--file: %w", err)
			}
			defer f.Close()
			if src, err = auditlog.ReadCSV(f); err != nil {
				return err
			}
		}
		res, err := auditlog.Verify(ctx, src, a.auditKey.Public())
		if err != nil {
			return err
		}
		if !res.OK() {
			fmt.Fprintln(e.stderr, res.Line())
			return errReported
		}
		fmt.Fprintln(e.stdout, res.Line())
		return nil
	})
}

// checkpointAudit signs the audit log's chain up to its newest event,
// when a checkpoint does not cover it yet.
func (a *app) checkpointAudit(ctx context.Context) {
	cp, err := a.db.CheckpointAudit(ctx, func(seq int64, hash string, at time.Time) (*lanyard.AuditCheckpoint, error) {
		return auditlog.Sign(a.auditKey, seq, hash, at)
	})
	if err != nil {
		a.logger.Error("sign audit checkpoint", "err", err)
	} else if cp != nil {
		a.logger.Debug("signed audit checkpoint", "event", cp.Seq)
	}
}
