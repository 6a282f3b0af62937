import Foundation
import MailClients
import PostdeskWire

/// Why a mailbox failed, read from the client error and the server's own words, with what the
/// admin should do and whether retrying can help.
public struct MailboxDiagnosis: Sendable, Equatable {
    /// The causes postdesk tells apart; each has its own backoff.
    public enum Cause: Sendable, Equatable {
        /// Gmail `[ALERT] Please log in via your web browser`: app password needed, or locked after frequent polling.
        case gmailWebLoginRequired
        /// Yahoo `[AUTHENTICATIONFAILED] (#MBR1240) Please verify your account`: app password needed.
        case yahooAccountVerification
        /// Outlook POP3 `Exceeded the login limit for a 15 minute period`.
        case outlookLoginLimit
        /// Microsoft `User is authenticated but not connected`: the mailbox refused this protocol or user.
        case microsoftNotConnected
        /// `Request is throttled. Suggested Backoff Time: N milliseconds`.
        case throttled(Duration)
        /// User name or password refused.
        case badCredentials
        /// A fresh OAuth 2.0 access token refused: a scope, the protocol or the user name is wrong.
        case oauthTokenRefused
        /// The TLS certificate is not trusted or names another host, or STARTTLS is missing.
        case tlsConfiguration
        /// Network trouble: refused, DNS, timeout, closed connection, server busy.
        case transient
    }

    public var cause: Cause
    /// The server's words, verbatim, when it said something.
    public var serverText: String?
    /// What happened, in our words.
    public var summary: String
    /// What the admin should do.
    public var fix: String

    /// Whether only an admin can clear this (no retry loop).
    public var needsAttention: Bool {
        switch cause {
        case .gmailWebLoginRequired, .yahooAccountVerification, .microsoftNotConnected, .badCredentials,
            .oauthTokenRefused, .tlsConfiguration:
            true
        case .outlookLoginLimit, .throttled, .transient:
            false
        }
    }

    /// One line for the CLI: our summary, the server's words, the fix.
    public var line: String {
        var text = summary
        if let serverText, !serverText.isEmpty { text += "; the server said: \"\(serverText)\"" }
        return text + ". " + fix
    }

    /// Reads a failure; `oauth` when the login sent an access token of postdesk's own grant.
    public static func diagnose(_ error: MailClientError, oauth: Bool = false) -> MailboxDiagnosis {
        let words = error.serverText ?? ""
        let lower = words.lowercased()
        func make(_ cause: Cause, _ summary: String, _ fix: String) -> MailboxDiagnosis {
            MailboxDiagnosis(cause: cause, serverText: error.serverText, summary: summary, fix: fix)
        }
        if lower.contains("log in via your web browser") || lower.contains("web login required") {
            return make(
                .gmailWebLoginRequired, "Gmail refused the login and asks for a web-browser sign-in",
                "If the account uses two-step verification, create an app password and use it here; otherwise sign in once at accounts.google.com and allow the access. Gmail also locks accounts that are polled too often, so do not lower the check interval"
            )
        }
        if lower.contains("#mbr1240") || lower.contains("please verify your account") {
            return make(
                .yahooAccountVerification, "Yahoo refused the login until the account is verified",
                "Generate an app password in Yahoo's account security settings and use it instead of the account password"
            )
        }
        if lower.contains("exceeded the login limit") {
            return make(
                .outlookLoginLimit, "Outlook refused POP3 because of too many logins in 15 minutes",
                "postdesk waits 15 minutes before trying again; use IMAP for this mailbox to avoid the limit")
        }
        if lower.contains("authenticated but not connected") {
            return make(
                .microsoftNotConnected, "Microsoft accepted the password but did not open the mailbox",
                "Check that IMAP/POP is enabled for this mailbox in the Microsoft 365 admin center and that the user name is the mailbox's own address (for a shared mailbox: user@domain\\shared@domain)"
            )
        }
        if let suggested = throttleDelay(in: words) {
            return make(
                .throttled(suggested), "The server is throttling this account",
                "postdesk waits the suggested \(suggested) before trying again")
        }
        switch error.code {
        case .authenticationFailed where oauth:
            return make(
                .oauthTokenRefused,
                "The server refused a freshly refreshed OAuth 2.0 access token"
                    + (error.oauthFailure.map { ": " + $0.explanation } ?? ""),
                "Check that the app's scopes cover this protocol (Microsoft: IMAP.AccessAsUser.All, POP.AccessAsUser.All or SMTP.Send; Google: https://mail.google.com/), that IMAP/POP is enabled for the mailbox, and that the user name is the mailbox's address (a Microsoft shared mailbox: the shared address, with a delegate's sign-in); then run postdesk channel reauthorize"
            )
        case .authenticationFailed where error.oauthFailure != nil:
            // A token from the admin's own file or command (the server's JSON error says how it was refused).
            return make(
                .oauthTokenRefused,
                "The server refused the OAuth 2.0 access token from the token file or command: "
                    + (error.oauthFailure?.explanation ?? ""),
                "The token has expired or lacks that scope: check what refreshes it, or let postdesk hold and refresh the grant itself (postdesk oauth app add, then postdesk channel reauthorize ADDRESS --oauth-app NAME)"
            )
        case .authenticationFailed, .authenticationMechanismUnsupported:
            return make(
                .badCredentials, "The server refused the user name or password",
                "Check both. Gmail and Microsoft 365 accounts are best linked with OAuth 2.0 (postdesk oauth app add, then channel add --oauth-app); accounts with two-step verification that still have app passwords (Gmail, Yahoo) can use one"
            )
        case .tlsCertificateUntrusted:
            return make(
                .tlsConfiguration, "The server's TLS certificate is not trusted",
                "If it uses a private CA, pass --ca-file with that CA's PEM file; otherwise check the host name")
        case .tlsHostnameMismatch:
            return make(
                .tlsConfiguration, "The server's TLS certificate is for another host name",
                "Use the host name the certificate was issued for")
        case .starttlsNotOffered:
            return make(
                .tlsConfiguration, "The server does not offer STARTTLS",
                "Use --tls implicit on the server's TLS port (993 IMAP, 995 POP3, 465 SMTP)")
        case .tlsHandshakeFailed:
            return make(
                .tlsConfiguration, "The TLS handshake failed: \(error.message)",
                "Check the port and --tls mode: implicit TLS and STARTTLS use different ports")
        case .connectionRefused:
            return make(.transient, "Nothing accepts connections at this host and port", "Check the host and port")
        case .dnsFailure:
            return make(.transient, "The host name does not resolve", "Check the host name")
        case .timeout:
            return make(.transient, "The server did not answer in time", "Check the host, port and firewall")
        default:
            return make(.transient, error.message, "postdesk retries with backoff")
        }
    }

    /// The wait a Microsoft server suggests: `Suggested Backoff Time: 299134 milliseconds`.
    static func throttleDelay(in text: String) -> Duration? {
        guard let range = text.range(of: "suggested backoff time:", options: .caseInsensitive) else { return nil }
        let digits = text[range.upperBound...].drop(while: { $0 == " " }).prefix(while: { $0.isASCII && $0.isNumber })
        guard let milliseconds = Int64(digits), milliseconds >= 0 else { return nil }
        return .milliseconds(min(milliseconds, 24 * 3600 * 1000))
    }

    /// The explanation shown by the CLI for a client error.
    public static func explain(_ error: MailClientError) -> String {
        diagnose(error).line
    }
}

/// When to try a failed mailbox again, per provider and cause: a pure function of the failure,
/// the attempt number and the current time.
public struct MailboxBackoff: Sendable {
    public var provider: ProviderProfile
    public var transient: RetryPolicy

    public init(provider: ProviderProfile, transient: RetryPolicy = .mailbox) {
        self.provider = provider
        self.transient = transient
    }

    /// What to do after a failure.
    public enum Decision: Sendable, Equatable {
        /// Try again after this long.
        case retry(after: Duration)
        /// Stop until an admin edits or re-tests the channel.
        case needsAttention
    }

    /// The decision for the `attempt`-th consecutive failure (1-based); `random` picks the jitter.
    public func decision(for diagnosis: MailboxDiagnosis, attempt: Int, random: Double = .random(in: 0..<1))
        -> Decision
    {
        if diagnosis.needsAttention { return .needsAttention }
        let delay: Duration
        switch diagnosis.cause {
        case .outlookLoginLimit:
            delay = .seconds(15 * 60)
        case .throttled(let suggested):
            delay = suggested
        default:
            delay = transient.delay(forAttempt: attempt, random: random) ?? transient.maximum
        }
        // A provider's minimum poll interval is never undercut.
        return .retry(after: max(delay, provider.minimumPollInterval))
    }

    /// The delay after the `attempt`-th consecutive failure that is not the server's (a store write,
    /// a credential that cannot be read now): plain exponential backoff.
    public func transientDelay(attempt: Int, random: Double = .random(in: 0..<1)) -> Duration {
        max(transient.delay(forAttempt: attempt, random: random) ?? transient.maximum, provider.minimumPollInterval)
    }
}
