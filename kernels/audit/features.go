package audit

import (
	"context"
	"fmt"
	"slices"
	"time"

	auditv1 "github.com/gokernels/gokernels/gen/gokernels/kernels/audit/v1"
	"github.com/gokernels/gokernels/kernels/audit/features"
	"github.com/gokernels/gokernels/kernels/kerr"
	"github.com/gokernels/gokernels/kernels/limits"
	"github.com/gokernels/gokernels/kernels/registry"
)

// FeatureJob is the converted records and the calendar options.
type FeatureJob struct {
	Records []features.Record
	Opt     features.Options
}

// FeatureExtraction is audit/feature-extraction.
var FeatureExtraction = registry.Def[*auditv1.FeatureExtractionInput, *auditv1.FeatureExtractionOutput, FeatureJob]{
	Meta: registry.Meta{
		ID: "audit/feature-extraction", Domain: registry.DomainAudit,
		Description: "31 audit features per entity (volume, calendar-correct timing in tz, distribution, network, " +
			"holidays, Benford first-digit MAD / chi-square / Nigrini conformity) and a z-score anomaly score.",
	},
	Prepare: func(ctx context.Context, in *auditv1.FeatureExtractionInput) (FeatureJob, error) {
		if err := checkRecords(limits.From(ctx), in.GetRecords()); err != nil {
			return FeatureJob{}, err
		}
		job := FeatureJob{Opt: features.Options{TZOffset: int64(in.GetTzOffsetSeconds()),
			MonthEndDays: int(registry.Or(in.MonthEndDays, 5)), Holidays: map[int64]bool{}, Robust: in.GetRobust()}}
		for i, h := range in.GetHolidays() {
			t, err := time.Parse(time.DateOnly, h)
			if err != nil {
				return FeatureJob{}, kerr.Invalid(fmt.Sprintf("holidays[%d]", i), "must be a calendar date YYYY-MM-DD, got %q", h)
			}
			job.Opt.Holidays[t.Unix()/86400] = true
		}
		job.Records = make([]features.Record, len(in.GetRecords()))
		for i, r := range in.GetRecords() {
			job.Records[i] = features.Record{Type: slices.Index(features.Types, r.GetType()), Entity: r.GetEntityId(),
				TS: r.GetTs(), HasAmount: r.Amount != nil, Amount: r.GetAmount(), Account: r.GetAccount(),
				Counterparty: r.GetCounterparty(), Category: r.GetCategory()}
		}
		return job, nil
	},
	CPU: func(ctx context.Context, job FeatureJob) (*auditv1.FeatureExtractionOutput, error) {
		res, err := features.Extract(ctx, job.Records, job.Opt)
		if err != nil {
			return nil, err
		}
		out := &auditv1.FeatureExtractionOutput{FeatureNames: features.Names}
		for i, r := range res.Rows {
			out.Rows = append(out.Rows, &auditv1.FeatureRow{EntityId: r.Entity, Values: r.Values})
			out.AnomalyScores = append(out.AnomalyScores, &auditv1.EntityScore{EntityId: r.Entity, Score: res.Scores[i]})
		}
		for f, s := range res.Stats {
			out.GlobalStats = append(out.GlobalStats, &auditv1.FeatureStat{Feature: features.Names[f], Mean: s.Mean,
				Std: s.Std, Median: s.Median, Mad: s.MAD})
		}
		slices.SortStableFunc(out.AnomalyScores, func(a, b *auditv1.EntityScore) int {
			switch {
			case a.Score > b.Score:
				return -1
			case a.Score < b.Score:
				return 1
			}
			return 0 // rows are already in entity order
		})
		return out, nil
	},
	Estimate: func(in *auditv1.FeatureExtractionInput) registry.Cost {
		n := int64(len(in.GetRecords()))
		return registry.Cost{WorkingBytes: 300 * n, OutputBytes: 320 * n, Work: float64(n)}
	},
}
