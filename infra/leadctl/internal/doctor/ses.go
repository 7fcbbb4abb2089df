package doctor

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sesv2/types"
)

// account: sending enabled and healthy, and production access (in the
// sandbox SES delivers only to verified addresses).
func (d *Doctor) account(ctx context.Context, dep Deployment) []Result {
	if d.SES == nil {
		return []Result{d.skip("ses.sending"), d.skip("ses.production-access")}
	}
	acct, err := d.SES.GetAccount(ctx, &sesv2.GetAccountInput{})
	if err != nil {
		r := Result{Status: Fail, Summary: "cannot read the SES account: " + d.explain(err)}
		a, b := r, r
		a.ID, b.ID = "ses.sending", "ses.production-access"
		return []Result{a, b}
	}
	sending := Result{ID: "ses.sending", Status: Pass, Summary: fmt.Sprintf("SES sending is enabled in %s", dep.Region)}
	switch status := aws.ToString(acct.EnforcementStatus); {
	case !acct.SendingEnabled || status == "SHUTDOWN":
		sending.Status = Fail
		sending.Summary = fmt.Sprintf("SES sending is paused for the account in %s (enforcement status %s): no staff email or confirmation goes out", dep.Region, orNone(status))
		sending.Fix = "See the SES console's Reputation metrics page for why (AWS pauses sending at a 10% bounce or 0.5% complaint rate) and ask AWS to review it."
	case status == "PROBATION":
		sending.Status = Warn
		sending.Summary = "the SES account is under review (PROBATION): sending may be paused"
		sending.Fix = "Bring the bounce and complaint rates down (SesBounceRateAlarm, SesComplaintRateAlarm; docs/runbook.md)."
	}
	prod := Result{ID: "ses.production-access", Status: Pass, Summary: "SES production access is on"}
	if !acct.ProductionAccessEnabled {
		unverified := d.unverified(ctx, dep.Staff)
		prod.Summary = "SES is in the sandbox: it delivers only to verified addresses, and at most 200 emails a day"
		prod.Fix = "Request production access (SES console, Account dashboard) before the website goes live; confirmations to the public cannot be sent from the sandbox."
		prod.Status = Warn
		if len(unverified) > 0 {
			prod.Status = Fail
			prod.Summary += "; these staff addresses are not verified and get no email: " + strings.Join(unverified, ", ")
			prod.Fix = "Verify each (aws sesv2 create-email-identity --email-identity ADDRESS, then the link in its email), or request production access."
		}
	}
	return []Result{sending, prod}
}

// unverified returns the addresses that neither they nor their domain are
// verified for sending. A lookup that fails counts as unverified.
func (d *Doctor) unverified(ctx context.Context, addresses []string) []string {
	var out []string
	for _, a := range addresses {
		if !d.verified(ctx, a) && !d.verified(ctx, domainOf(a)) {
			out = append(out, a)
		}
	}
	return out
}

func (d *Doctor) verified(ctx context.Context, identity string) bool {
	id, err := d.SES.GetEmailIdentity(ctx, &sesv2.GetEmailIdentityInput{EmailIdentity: &identity})
	return err == nil && id.VerifiedForSendingStatus
}

// sender: the identity is verified, signs with DKIM, has a custom MAIL
// FROM domain (SPF alignment) and a DMARC record.
func (d *Doctor) sender(ctx context.Context, dep Deployment) []Result {
	ids := []string{"ses.sender", "ses.dkim", "ses.spf", "ses.dmarc"}
	if d.SES == nil {
		var out []Result
		for _, id := range ids {
			out = append(out, d.skip(id))
		}
		return out
	}
	name := dep.SenderIdentity
	domain := domainOf(name)
	id, err := d.SES.GetEmailIdentity(ctx, &sesv2.GetEmailIdentityInput{EmailIdentity: &name})
	if err != nil {
		r := Result{ID: "ses.sender", Status: Fail, Summary: fmt.Sprintf("the sender identity %s cannot be read: %s", name, d.explain(err)),
			Fix: fmt.Sprintf("Create and verify it in SES in %s (aws sesv2 create-email-identity --email-identity %s), publishing the DKIM records it gives.", dep.Region, name)}
		if isNotFound(err) {
			r.Summary = fmt.Sprintf("the sender identity %s does not exist in SES in %s", name, dep.Region)
		}
		return []Result{r, d.dmarc(ctx, domain)}
	}
	out := []Result{{ID: "ses.sender", Status: Pass, Summary: fmt.Sprintf("the sender identity %s is verified", name)}}
	if !id.VerifiedForSendingStatus {
		out[0] = Result{ID: "ses.sender", Status: Fail,
			Summary: fmt.Sprintf("the sender identity %s is not verified (%s): SES refuses every email", name, id.VerificationStatus),
			Fix:     "Publish the identity's DKIM CNAME records (aws sesv2 get-email-identity --email-identity " + name + ") and wait for verification."}
	}
	dkim := Result{ID: "ses.dkim", Status: Pass, Summary: "DKIM signing is on and verified"}
	switch a := id.DkimAttributes; {
	case a == nil || a.Status != types.DkimStatusSuccess:
		status := "not set up"
		if a != nil {
			status = string(a.Status)
		}
		dkim = Result{ID: "ses.dkim", Status: Fail, Summary: "DKIM is " + status + ": mail providers may file staff email as spam",
			Fix: "Publish the three DKIM CNAME records SES lists for " + name + " (Easy DKIM)."}
		if id.IdentityType == types.IdentityTypeEmailAddress {
			dkim.Status = Warn
			dkim.Summary = "the sender is an address identity, which signs with no DKIM key of the clinic's domain"
			dkim.Fix = "Verify the domain " + domain + " in SES with Easy DKIM and set SenderIdentity to it."
		}
	case !a.SigningEnabled:
		dkim = Result{ID: "ses.dkim", Status: Fail, Summary: "DKIM is verified but signing is turned off",
			Fix: "aws sesv2 put-email-identity-dkim-attributes --email-identity " + name + " --signing-enabled"}
	}
	out = append(out, dkim)
	spf := Result{ID: "ses.spf", Status: Pass}
	switch m := id.MailFromAttributes; {
	case m == nil || aws.ToString(m.MailFromDomain) == "":
		spf.Status = Warn
		spf.Summary = "no custom MAIL FROM domain: SPF passes for amazonses.com, not " + domain + ", so DMARC relies on DKIM alone"
		spf.Fix = "Set one (aws sesv2 put-email-identity-mail-from-attributes --email-identity " + name +
			" --mail-from-domain mail." + domain + ") and publish its MX record and TXT \"v=spf1 include:amazonses.com ~all\"."
	case m.MailFromDomainStatus != types.MailFromDomainStatusSuccess:
		spf.Status = Warn
		spf.Summary = fmt.Sprintf("the MAIL FROM domain %s is %s", aws.ToString(m.MailFromDomain), m.MailFromDomainStatus)
		spf.Fix = "Publish its MX record (feedback-smtp." + dep.Region + ".amazonses.com) and TXT \"v=spf1 include:amazonses.com ~all\"."
	default:
		spf.Summary = "the MAIL FROM domain " + aws.ToString(m.MailFromDomain) + " is set up (SPF aligned)"
	}
	out = append(out, spf, d.dmarc(ctx, domain))
	return out
}

// dmarc looks for a DMARC policy at _dmarc.<domain>.
func (d *Doctor) dmarc(ctx context.Context, domain string) Result {
	if d.LookupTXT == nil {
		return d.skip("ses.dmarc")
	}
	fix := "Publish TXT _dmarc." + domain + " \"v=DMARC1; p=none; rua=mailto:dmarc@" + domain + "\", then tighten p= to quarantine once reports show only SES and your own mail."
	txts, err := d.LookupTXT(ctx, "_dmarc."+domain)
	if err != nil {
		var dnsErr *net.DNSError
		if errors.As(err, &dnsErr) && dnsErr.IsNotFound {
			return Result{ID: "ses.dmarc", Status: Warn, Summary: "no DMARC record at _dmarc." + domain, Fix: fix}
		}
		return Result{ID: "ses.dmarc", Status: Warn, Summary: "could not look up _dmarc." + domain + ": " + err.Error(), Fix: "Check it with: dig TXT _dmarc." + domain}
	}
	for _, t := range txts {
		if strings.HasPrefix(strings.ToLower(strings.TrimSpace(t)), "v=dmarc1") {
			return Result{ID: "ses.dmarc", Status: Pass, Summary: "DMARC: " + t}
		}
	}
	return Result{ID: "ses.dmarc", Status: Warn, Summary: "no DMARC record at _dmarc." + domain, Fix: fix}
}

// suppression: no staff address is on the account's suppression list.
func (d *Doctor) suppression(ctx context.Context, dep Deployment) []Result {
	var out []Result
	for _, a := range dep.Staff {
		id := "ses.suppression." + a
		if d.SES == nil {
			out = append(out, d.skip(id))
			continue
		}
		got, err := d.SES.GetSuppressedDestination(ctx, &sesv2.GetSuppressedDestinationInput{EmailAddress: aws.String(a)})
		switch {
		case isNotFound(err):
			out = append(out, Result{ID: id, Status: Pass, Summary: a + " is not on the suppression list"})
		case err != nil:
			out = append(out, Result{ID: id, Status: Fail, Summary: "cannot check " + a + " against the suppression list: " + d.explain(err)})
		default:
			r := Result{ID: id, Status: Fail, Summary: a + " is on the account's suppression list",
				Fix: "Fix the mailbox, then: aws sesv2 delete-suppressed-destination --email-address " + a}
			if s := got.SuppressedDestination; s != nil {
				r.Summary += fmt.Sprintf(" (%s", s.Reason)
				if s.LastUpdateTime != nil {
					r.Summary += " since " + s.LastUpdateTime.UTC().Format("2006-01-02")
				}
				r.Summary += ")"
			}
			out = append(out, r)
		}
	}
	return out
}

// configurationSets: both sets exist, and staff mail's set suppresses
// nothing.
func (d *Doctor) configurationSets(ctx context.Context, dep Deployment) []Result {
	var out []Result
	for _, logical := range slices.Sorted(maps.Keys(dep.ConfigurationSets)) {
		name := dep.ConfigurationSets[logical]
		id := "ses.configuration-set." + logical
		if d.SES == nil {
			out = append(out, d.skip(id))
			continue
		}
		set, err := d.SES.GetConfigurationSet(ctx, &sesv2.GetConfigurationSetInput{ConfigurationSetName: aws.String(name)})
		switch {
		case isNotFound(err):
			out = append(out, Result{ID: id, Status: Fail, Summary: fmt.Sprintf("configuration set %s (%s) does not exist: SES refuses every email naming it", name, logical),
				Fix: "Deploy the stack again (sam deploy); it creates the set."})
		case err != nil:
			out = append(out, Result{ID: id, Status: Fail, Summary: "cannot read configuration set " + name + ": " + d.explain(err)})
		case logical == dep.StaffConfigurationSet && set.SuppressionOptions != nil && len(set.SuppressionOptions.SuppressedReasons) > 0:
			out = append(out, Result{ID: id, Status: Warn, Summary: fmt.Sprintf("configuration set %s suppresses %v: one bounce could silence a staff address", name, set.SuppressionOptions.SuppressedReasons),
				Fix: "Deploy the stack again; template.yaml gives staff email a set without suppression."})
		default:
			out = append(out, Result{ID: id, Status: Pass, Summary: fmt.Sprintf("configuration set %s exists", name)})
		}
	}
	return out
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}
