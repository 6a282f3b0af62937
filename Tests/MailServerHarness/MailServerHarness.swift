// MailServerHarness owns private, throw-away Dovecot and OpenSMTPD instances on 127.0.0.1 for the integration tests.
// It does not own any postdesk logic or mail protocol client: tests bring their own (or the project's) clients.

/// Constants shared by the harness.
public enum MailServerHarness {
    /// The mail domains an instance accepts over SMTP unless `MailServers.start(domains:)` says otherwise.
    public static let defaultDomains = ["desk.test", "customer.test", "example.com"]

    /// Prefix of every instance's temporary directory (used to find instances left behind by a crashed test process).
    static let directoryPrefix = "postdesk-mailservers-"

    /// The text every "not installed" error carries.
    static let installHint = "run scripts/install-deps.sh"
}
