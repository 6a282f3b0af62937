import MailMessage
import ServiceDesk

/// `postdesk inspect`, offline: a mail read exactly as the server's router reads it (`MailReading`), so that what
/// the command shows is what the server does, without the CLI knowing the store.
public struct MailInspectionReading: Sendable {
    /// The mail-level reading: structure, charsets, body, attachments, automatic verdict.
    public var inspection: MailInspection
    /// What the desk takes from it, as text (sender, threading, reply token, verdict).
    public var deskText: String

    /// The reading of `raw`, or nil when it cannot be read as a mail at all.
    public init?(raw: [UInt8]) {
        let reading = MailReading(raw: raw)
        guard let inspection = reading.inspection else { return nil }
        self.inspection = inspection
        self.deskText = reading.renderDeskText()
    }
}
