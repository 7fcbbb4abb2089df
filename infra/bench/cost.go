package main

import (
	"fmt"
	"math"
)

// Public on-demand prices, us-east-1, as of 2026. Check them against the
// pages named before quoting a result; they change.
const (
	PricesAsOf = "us-east-1, on-demand, as of 2026"

	// AWS Lambda pricing page: arm64 duration and requests.
	LambdaArmPerGBSecond  = 0.0000133334
	LambdaPerMillionReqs  = 0.20
	LambdaPricingSource   = "AWS Lambda pricing page"
	LambdaBillingUnitMs   = 1.0 // billed duration is rounded up to the millisecond
	LambdaStreamGetRecord = 0.0 // DynamoDB Streams GetRecords by a Lambda trigger is free

	// Amazon API Gateway pricing page: HTTP APIs, first 300 million a month.
	HTTPAPIPerMillionReqs = 1.00
	HTTPAPIPricingSource  = "Amazon API Gateway pricing page (HTTP APIs)"

	// Amazon DynamoDB pricing page, on-demand capacity, after the November
	// 2024 price cut: a write request unit is one write of up to 1 KB, a read
	// request unit one strongly consistent read of up to 4 KB.
	DynamoPerMillionWRU   = 0.625
	DynamoPerMillionRRU   = 0.125
	DynamoWRUBytes        = 1024
	DynamoRRUBytes        = 4096
	DynamoPricingSource   = "Amazon DynamoDB pricing page (on-demand)"
	DynamoStorageGBMonth  = 0.25 // standard table class, after the first 25 GB
	DynamoStorageOverhead = 100  // bytes DynamoDB adds per item and per index entry for storage

	// Amazon SES pricing page: outbound email, per 1,000 (each recipient
	// counts as one email).
	SESPerThousandEmails = 0.10
	SESPricingSource     = "Amazon SES pricing page"

	// Amazon CloudWatch pricing page: Lambda logs ingested, first tier.
	LogsPerGB           = 0.50
	LogsPricingSource   = "Amazon CloudWatch pricing page (vended Lambda logs, first tier)"
	leadsInCostEstimate = 1_000_000
)

// CostInput is what one lead costs in usage, from the bench's measurements.
type CostInput struct {
	Form              string  `json:"form"`
	IntakeMemoryMB    int     `json:"intakeMemoryMB"`
	NotifyMemoryMB    int     `json:"notifyMemoryMB"`
	IntakeBilledMs    float64 `json:"intakeBilledMs"`    // mean billed ms per warm invocation
	NotifyBilledMs    float64 `json:"notifyBilledMs"`    // mean billed ms per warm invocation
	LeadItemBytes     int     `json:"leadItemBytes"`     // as written by intake
	ClaimItemBytes    int     `json:"claimItemBytes"`    // the idempotency claim
	MarkedItemBytes   int     `json:"markedItemBytes"`   // the lead after the notifier's mark
	LeadGSIs          int     `json:"leadGSIs"`          // indexes the lead item appears in
	ClaimGSIs         int     `json:"claimGSIs"`         // indexes the claim appears in (sparse: none)
	MarkUpdatesGSIs   bool    `json:"markUpdatesGSIs"`   // the indexes project the marked attribute
	EmailsPerLead     int     `json:"emailsPerLead"`     // staff recipients (+1 with confirmations)
	LogBytesPerLead   float64 `json:"logBytesPerLead"`   // intake + notify stdout
	NotifyReadsPerRec int     `json:"notifyReadsPerRec"` // consistent GetItem calls per record
	NotifyMeasured    bool    `json:"notifyMeasured"`    // false: the notifier did not run; its duration and mark are left out
}

// CostLine is one priced item of the estimate.
type CostLine struct {
	Item     string  `json:"item"`
	Quantity float64 `json:"quantity"`
	Unit     string  `json:"unit"`
	USD      float64 `json:"usd"`
	Source   string  `json:"source"`
}

// Cost is the estimate for leadsInCostEstimate leads of one form.
type Cost struct {
	Input CostInput  `json:"input"`
	Lines []CostLine `json:"lines"`
	Total float64    `json:"totalUSD"`
	// PerExtraMs is what one more billed millisecond per invocation (intake
	// and notifier each) adds to the total.
	PerExtraMs float64 `json:"perExtraBilledMsUSD"`
}

// estimate prices leadsInCostEstimate leads.
func estimate(in CostInput) Cost {
	n := float64(leadsInCostEstimate)
	gbs := func(memMB int, ms float64) float64 { return float64(memMB) / 1024 * ms / 1000 }
	wru := units(in.ClaimItemBytes, DynamoWRUBytes)*(1+in.ClaimGSIs) +
		units(in.LeadItemBytes, DynamoWRUBytes)*(1+in.LeadGSIs)
	// An update is charged on the larger of the item before and after, in
	// the table and in every index that projects the changed attribute.
	markWRU := units(max(in.LeadItemBytes, in.MarkedItemBytes), DynamoWRUBytes)
	if in.MarkUpdatesGSIs {
		markWRU *= 1 + in.LeadGSIs
	}
	rru := units(in.LeadItemBytes, DynamoRRUBytes) * in.NotifyReadsPerRec
	lines := []CostLine{
		{"Lambda requests (intake + notifier)", 2 * n, "requests", 2 * n / 1e6 * LambdaPerMillionReqs, LambdaPricingSource},
		{"Lambda duration, intake (arm64)", n * gbs(in.IntakeMemoryMB, in.IntakeBilledMs), "GB-s", n * gbs(in.IntakeMemoryMB, in.IntakeBilledMs) * LambdaArmPerGBSecond, LambdaPricingSource},
		{"Lambda duration, notifier (arm64)", n * gbs(in.NotifyMemoryMB, in.NotifyBilledMs), "GB-s", n * gbs(in.NotifyMemoryMB, in.NotifyBilledMs) * LambdaArmPerGBSecond, LambdaPricingSource},
		{"HTTP API requests", n, "requests", n / 1e6 * HTTPAPIPerMillionReqs, HTTPAPIPricingSource},
		{"DynamoDB writes: claim + lead + its index entries", n * float64(wru), "WRU", n * float64(wru) / 1e6 * DynamoPerMillionWRU, DynamoPricingSource},
		{"DynamoDB writes: notifier's mark (table + indexes)", n * float64(markWRU), "WRU", n * float64(markWRU) / 1e6 * DynamoPerMillionWRU, DynamoPricingSource},
		{"DynamoDB reads: notifier's consistent read", n * float64(rru), "RRU", n * float64(rru) / 1e6 * DynamoPerMillionRRU, DynamoPricingSource},
		{"DynamoDB Streams reads by the Lambda trigger", n, "records", n * LambdaStreamGetRecord, DynamoPricingSource},
		{"SES emails", n * float64(in.EmailsPerLead), "emails", n * float64(in.EmailsPerLead) / 1000 * SESPerThousandEmails, SESPricingSource},
		{"CloudWatch Logs ingestion (measured log lines)", n * in.LogBytesPerLead / 1e9, "GB", n * in.LogBytesPerLead / 1e9 * LogsPerGB, LogsPricingSource},
	}
	c := Cost{Input: in, Lines: lines}
	for _, l := range lines {
		c.Total += l.USD
	}
	c.PerExtraMs = n * (gbs(in.IntakeMemoryMB, 1) + gbs(in.NotifyMemoryMB, 1)) * LambdaArmPerGBSecond
	return c
}

// storagePerMonth is what keeping leadsInCostEstimate leads costs a month:
// the item in the table and in each index it appears in.
func storagePerMonth(in CostInput) float64 {
	bytes := float64(in.MarkedItemBytes+DynamoStorageOverhead) * float64(1+in.LeadGSIs)
	return float64(leadsInCostEstimate) * bytes / (1 << 30) * DynamoStorageGBMonth
}

// billedMs is Lambda's billed duration for one invocation of d ms.
func billedMs(d float64) float64 {
	return math.Ceil(d/LambdaBillingUnitMs) * LambdaBillingUnitMs
}

// priceList describes the constants above, for the table and the JSON.
func priceList() []string {
	return []string{
		fmt.Sprintf("Lambda arm64 $%.10f per GB-s, $%.2f per million requests, billed per %g ms (%s)", LambdaArmPerGBSecond, LambdaPerMillionReqs, LambdaBillingUnitMs, LambdaPricingSource),
		fmt.Sprintf("HTTP API $%.2f per million requests (%s)", HTTPAPIPerMillionReqs, HTTPAPIPricingSource),
		fmt.Sprintf("DynamoDB on-demand $%.3f per million WRU (1 KB), $%.3f per million RRU (4 KB strongly consistent), storage $%.2f per GB-month; stream reads by Lambda triggers free (%s)", DynamoPerMillionWRU, DynamoPerMillionRRU, DynamoStorageGBMonth, DynamoPricingSource),
		fmt.Sprintf("SES $%.2f per 1,000 emails (%s)", SESPerThousandEmails, SESPricingSource),
		fmt.Sprintf("CloudWatch Logs $%.2f per GB ingested (%s)", LogsPerGB, LogsPricingSource),
	}
}
