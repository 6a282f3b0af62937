import MailClients
import Testing

@testable import EmailChannel

@Suite("Mailbox diagnosis and backoff")
struct MailboxDiagnosisTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var error: MailClientError
        var cause: MailboxDiagnosis.Cause
        var fixMentions: String
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(
            name: "Gmail web login",
            error: MailClientError(
                .authenticationFailed, "login refused",
                serverText:
                    "[ALERT] Please log in via your web browser: https://support.google.com/mail/accounts/answer/78754 (Failure)"
            ),
            cause: .gmailWebLoginRequired, fixMentions: "app password"),
        Case(
            name: "Yahoo MBR1240",
            error: MailClientError(
                .authenticationFailed, "login refused",
                serverText:
                    "[AUTHENTICATIONFAILED] (#MBR1240) Please verify your account by going to https://login.yahoo.com"),
            cause: .yahooAccountVerification, fixMentions: "app password"),
        Case(
            name: "Outlook POP3 login limit",
            error: MailClientError(
                .commandRejected, "STAT failed",
                serverText:
                    "-ERR Exceeded the login limit for a 15 minute period. Reduce the frequency of requests to the POP3 server."
            ),
            cause: .outlookLoginLimit, fixMentions: "IMAP"),
        Case(
            name: "Microsoft not connected",
            error: MailClientError(
                .commandRejected, "SELECT failed", serverText: "User is authenticated but not connected."),
            cause: .microsoftNotConnected, fixMentions: "IMAP/POP is enabled"),
        Case(
            name: "Microsoft throttling",
            error: MailClientError(
                .commandRejected, "refused",
                serverText: "Request is throttled. Suggested Backoff Time: 299134 milliseconds"),
            cause: .throttled(.milliseconds(299_134)), fixMentions: "suggested"),
        Case(
            name: "bad credentials",
            error: MailClientError(
                .authenticationFailed, "login refused", serverText: "[AUTHENTICATIONFAILED] Authentication failed."),
            cause: .badCredentials, fixMentions: "app password"),
        Case(
            name: "an external OAuth token refused, with the server's JSON",
            error: MailClientError(
                .authenticationFailed, "AUTHENTICATE failed", serverText: "NO [AUTHENTICATIONFAILED] failed",
                oauthFailure: OAuthBearerFailure(status: "invalid_token", scope: "mail")),
            cause: .oauthTokenRefused, fixMentions: "postdesk oauth app add"),
        Case(
            name: "self-signed certificate",
            error: MailClientError(.tlsCertificateUntrusted, "certificate not trusted"),
            cause: .tlsConfiguration, fixMentions: "--ca-file"),
        Case(
            name: "wrong host name",
            error: MailClientError(.tlsHostnameMismatch, "hostname mismatch"),
            cause: .tlsConfiguration, fixMentions: "host name"),
        Case(
            name: "STARTTLS not offered",
            error: MailClientError(.starttlsNotOffered, "no STARTTLS"),
            cause: .tlsConfiguration, fixMentions: "--tls implicit"),
        Case(
            name: "connection refused",
            error: MailClientError(.connectionRefused, "refused"), cause: .transient, fixMentions: "port"),
        Case(
            name: "timeout", error: MailClientError(.timeout, "no answer"), cause: .transient, fixMentions: "firewall"),
        Case(
            name: "DNS", error: MailClientError(.dnsFailure, "no such host"), cause: .transient,
            fixMentions: "host name"),
    ]

    @Test("each provider failure is recognised, quoted verbatim and given a fix", arguments: cases)
    func diagnose(_ sample: Case) {
        let diagnosis = MailboxDiagnosis.diagnose(sample.error)
        #expect(diagnosis.cause == sample.cause)
        #expect(diagnosis.fix.contains(sample.fixMentions))
        if let words = sample.error.serverText {
            #expect(diagnosis.line.contains(words))
        }
    }

    @Test("a fresh token of postdesk's own grant refused: the scope and the mailbox settings are named, with the JSON")
    func ownGrantRefused() {
        let error = MailClientError(
            .authenticationFailed, "AUTHENTICATE failed", serverText: "NO [AUTHENTICATIONFAILED] failed",
            oauthFailure: OAuthBearerFailure(status: "401", scope: "https://mail.google.com/"))
        let diagnosis = MailboxDiagnosis.diagnose(error, oauth: true)
        #expect(diagnosis.cause == .oauthTokenRefused)
        #expect(diagnosis.summary.contains("status 401 and wants a token with scope https://mail.google.com/"))
        #expect(diagnosis.fix.contains("IMAP.AccessAsUser.All"))
        #expect(diagnosis.fix.contains("reauthorize"))
        #expect(diagnosis.needsAttention)
        // Without the JSON, a password refusal stays a password refusal.
        #expect(MailboxDiagnosis.diagnose(MailClientError(.authenticationFailed, "x")).cause == .badCredentials)
    }

    @Test("authentication failures never retry in a loop")
    func noRetryOnAuth() {
        let backoff = MailboxBackoff(provider: .gmail)
        for sample in Self.cases where sample.error.code == .authenticationFailed {
            #expect(backoff.decision(for: .diagnose(sample.error), attempt: 1) == .needsAttention)
        }
    }

    @Test("the Outlook POP3 lock-out waits exactly 15 minutes")
    func outlookLockout() {
        let error = MailClientError(
            .commandRejected, "x", serverText: "-ERR Exceeded the login limit for a 15 minute period.")
        let backoff = MailboxBackoff(provider: .outlook)
        #expect(backoff.decision(for: .diagnose(error), attempt: 1) == .retry(after: .seconds(900)))
        #expect(backoff.decision(for: .diagnose(error), attempt: 9) == .retry(after: .seconds(900)))
    }

    @Test("throttling waits the server's suggested time")
    func throttling() {
        let error = MailClientError(
            .commandRejected, "x", serverText: "Request is throttled. Suggested Backoff Time: 299134 milliseconds")
        #expect(
            MailboxBackoff(provider: .custom).decision(for: .diagnose(error), attempt: 1)
                == .retry(after: .milliseconds(299_134)))
    }

    @Test("transient faults back off exponentially, capped, never under the provider's poll interval")
    func transient() {
        let error = MailClientError(.connectionRefused, "refused")
        let custom = MailboxBackoff(
            provider: .custom, transient: RetryPolicy(base: .seconds(2), maximum: .seconds(300), jitter: 0))
        #expect(custom.decision(for: .diagnose(error), attempt: 1) == .retry(after: .seconds(2)))
        #expect(custom.decision(for: .diagnose(error), attempt: 3) == .retry(after: .seconds(8)))
        #expect(custom.decision(for: .diagnose(error), attempt: 30) == .retry(after: .seconds(300)))
        let gmail = MailboxBackoff(
            provider: .gmail, transient: RetryPolicy(base: .seconds(2), maximum: .seconds(300), jitter: 0))
        #expect(gmail.decision(for: .diagnose(error), attempt: 1) == .retry(after: .seconds(60)))
    }

    @Test("a malformed throttle hint is not a throttle")
    func malformedThrottle() {
        #expect(MailboxDiagnosis.throttleDelay(in: "Suggested Backoff Time: lots") == nil)
        #expect(MailboxDiagnosis.throttleDelay(in: "Suggested Backoff Time: 99999999999999999999999") == nil)
    }
}
