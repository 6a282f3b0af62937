import Foundation
import MailClients
import ServiceDesk

/// Why the SMTP relay as a whole did not take mail (as opposed to refusing one message): the relay's own words,
/// our reading of them and what the admin should do.
public struct RelayDiagnosis: Sendable, Equatable {
    /// The causes told apart.
    public enum Cause: String, Sendable, Codable, CaseIterable {
        /// 535/534: the user name or password (or token) was refused.
        case badCredentials
        /// Gmail's `Please log in via your web browser`, Yahoo's account verification: an app password is needed.
        case appPasswordNeeded
        /// 530 without a login: the relay wants AUTH.
        case authenticationRequired
        /// 530 `Must issue a STARTTLS command first`, or STARTTLS not offered.
        case tlsRequired
        /// The certificate is untrusted or for another host, or the handshake failed.
        case tlsConfiguration
        /// The relay refused our sender address at MAIL FROM.
        case senderRefused
        /// The relay refused the session itself (554 greeting, EHLO and HELO refused).
        case sessionRefused
        /// The OAuth 2 token file or command gave no token.
        case credentialsUnavailable
        /// Connection refused, DNS, timeout, closed connection, 4xx: likely to pass on its own.
        case transient
        /// Notifications wait but no relay is set.
        case notConfigured
    }

    public var cause: Cause
    /// The relay's words, verbatim, when it said something.
    public var serverText: String?
    /// What happened, in our words.
    public var summary: String
    /// What the admin should do.
    public var fix: String

    /// One line for logs and the CLI: our summary, the relay's words, the fix.
    public var line: String {
        var text = summary
        if let serverText, !serverText.isEmpty { text += "; the relay said: \"\(serverText)\"" }
        return text + ". " + fix
    }

    /// The diagnosis in the shape of a connection test report's.
    public var reportDiagnosis: ChannelTestReport.Diagnosis {
        ChannelTestReport.Diagnosis(
            cause: cause.rawValue, summary: summary, fix: fix, needsAttention: cause != .transient)
    }

    static let waitingNote = "Notifications wait meanwhile and go out once the relay takes them"

    /// Reads a failure to open a session or to keep it: a `MailClientError`, or the error of reading the
    /// relay's OAuth 2 token.
    public static func diagnose(_ error: any Error) -> RelayDiagnosis {
        guard let error = error as? MailClientError else {
            let message = (error as? DeskError)?.message ?? "\(error)"
            return RelayDiagnosis(
                cause: .credentialsUnavailable, serverText: nil, summary: message,
                fix: "Check the token file or command given to postdesk smtp set. " + waitingNote)
        }
        let words = error.serverText ?? ""
        let lower = words.lowercased()
        func make(_ cause: Cause, _ summary: String, _ fix: String) -> RelayDiagnosis {
            RelayDiagnosis(cause: cause, serverText: error.serverText, summary: summary, fix: fix)
        }
        if lower.contains("log in via your web browser") || lower.contains("#mbr1240")
            || lower.contains("please verify your account") || lower.contains("application-specific password")
        {
            return make(
                .appPasswordNeeded, "The relay refused the login and asks for an app password or a web sign-in",
                "Create an app password for the account (Gmail, Yahoo and Outlook require one with two-step "
                    + "verification) and run postdesk smtp set with it. " + waitingNote)
        }
        // RFC 3207 §4: 530 "Must issue a STARTTLS command first".
        if (error.replyCode == 530 && lower.contains("starttls")) || error.code == .starttlsNotOffered {
            return make(
                .tlsRequired, "The relay wants TLS before it takes a login or mail",
                "Use --tls starttls (usually port 587) or --tls implicit (port 465). " + waitingNote)
        }
        switch error.code {
        case .authenticationFailed where error.oauthFailure != nil:
            return make(
                .badCredentials,
                "The relay refused the OAuth 2.0 access token: " + (error.oauthFailure?.explanation ?? ""),
                "Check that the app has the SMTP.Send scope (Microsoft) or https://mail.google.com/ (Google) and that "
                    + "authenticated SMTP is enabled for the mailbox, then run postdesk smtp set --oauth-app again. "
                    + waitingNote)
        case .authenticationFailed:
            return make(
                .badCredentials, "The relay refused the user name or password",
                "Check --username and the password (accounts with two-step verification need an app password), "
                    + "then run postdesk smtp set again. " + waitingNote)
        case .authenticationMechanismUnsupported:
            return make(
                .badCredentials,
                "The relay offers no login method postdesk speaks with these credentials: \(error.message)",
                "Use --tls starttls if the relay offers AUTH only after TLS, or a password instead of a token. "
                    + waitingNote)
        case .tlsCertificateUntrusted:
            return make(
                .tlsConfiguration, "The relay's TLS certificate is not trusted",
                "If it uses a private CA, pass --ca-file with that CA's PEM file; otherwise check the host name. "
                    + waitingNote)
        case .tlsHostnameMismatch:
            return make(
                .tlsConfiguration, "The relay's TLS certificate is for another host name",
                "Use the host name the certificate was issued for. " + waitingNote)
        case .tlsHandshakeFailed:
            return make(
                .tlsConfiguration, "The TLS handshake with the relay failed: \(error.message)",
                "Check the port and --tls mode: implicit TLS (465) and STARTTLS (587) use different ports. "
                    + waitingNote)
        case .connectionRefused:
            return make(
                .transient, "Nothing accepts connections at the relay's host and port",
                "Check --host and --port; postdesk retries with backoff")
        case .dnsFailure:
            return make(
                .transient, "The relay's host name does not resolve", "Check --host; postdesk retries with backoff")
        case .timeout:
            return make(
                .transient, "The relay did not answer in time: \(error.message)",
                "Check the host, port and firewall; postdesk retries with backoff")
        default:
            break
        }
        if error.replyCode == 530 {
            return make(
                .authenticationRequired, "The relay wants a login before it takes mail",
                "Give --username and the password to postdesk smtp set. " + waitingNote)
        }
        if let code = error.replyCode, code / 100 == 5 {
            return make(
                .sessionRefused, "The relay refused the session: \(error.message)",
                "Ask the relay's administrator to allow this host, or use the submission port (587) with a login. "
                    + waitingNote)
        }
        return make(.transient, "The relay failed: \(error.message)", "postdesk retries with backoff")
    }

    /// The relay refused our sender at MAIL FROM, before any message of the session got further.
    public static func senderRefused(_ reply: SMTPReply, sender: String) -> RelayDiagnosis {
        // RFC 4954 §6 / RFC 3207 §4: 530 at MAIL FROM is about the session (login or TLS first), not the sender.
        if reply.code == 530 {
            return diagnose(
                MailClientError(
                    .commandRejected, "the relay refused MAIL FROM", serverText: reply.verbatim, replyCode: reply.code))
        }
        if reply.isTransientFailure {
            return RelayDiagnosis(
                cause: .transient, serverText: reply.verbatim,
                summary: "The relay does not take mail from \(sender) for now",
                fix: "postdesk retries with backoff")
        }
        return RelayDiagnosis(
            cause: .senderRefused, serverText: reply.verbatim, summary: "The relay refuses to send as \(sender)",
            fix: "Use --from with an address the relay account may send as, then run postdesk smtp set again. "
                + waitingNote)
    }

    /// The relay said it is closing the session (421, RFC 5321 §3.8).
    public static func closing(_ reply: SMTPReply) -> RelayDiagnosis {
        RelayDiagnosis(
            cause: .transient, serverText: reply.verbatim, summary: "The relay is closing sessions for now",
            fix: "postdesk retries with backoff")
    }

    /// No relay is set while notifications wait.
    public static let notConfigured = RelayDiagnosis(
        cause: .notConfigured, serverText: nil, summary: "Notifications are waiting but no SMTP relay is set",
        fix: "Run postdesk smtp set; they are sent as soon as it is")
}
