import Foundation

/// What a crash run found: its figures, and every problem by kind (each names the mail or comment
/// token it is about), so that a failing run says exactly what was lost or doubled.
struct CrashReport: Sendable {
    var seed: UInt64
    var mails = 0
    var imapMails = 0
    var pop3Mails = 0
    var kills = 0
    var killMoments: [String: Int] = [:]
    /// Kills after which the harness read the dead server's database (needs the sqlite3 tool).
    var killsReadBack = 0
    /// Of those, kills that left stored mail unprocessed, and kills that left notifications unsent.
    var killsWithUnprocessedMail = 0
    var killsWithUnsentNotifications = 0
    /// Kills between storing mail and flagging (IMAP) or deleting (POP3) it: the next server fetched it again.
    var killsBetweenStoreAndFlag = 0
    /// Comments the agent made (each one notification).
    var comments = 0
    /// Notification copies found in the customers' mailboxes.
    var notificationCopies = 0
    /// Copies beyond the first of a notification (a resend after a kill), all with its Message-ID.
    var resentCopies = 0
    /// Comment calls that failed because the server died or was down.
    var failedCommentCalls = 0
    /// Of those, comments the server had committed before it died (found on the request afterwards).
    var committedDespiteFailure = 0
    /// Mailbox events in the processing log: the same mail seen again under another mailbox UID, or skipped.
    var mailboxEvents: [String: Int] = [:]
    var killPhase: Duration = .zero
    var duration: Duration = .zero
    var dataDirectory = ""

    /// Mails that did not become exactly one stored, processed request.
    var lost: [String] = []
    /// Mails stored or turned into requests more than once, comments made twice, unexpected requests.
    var duplicated: [String] = []
    /// Notifications never received, or received with different Message-IDs.
    var notificationProblems: [String] = []
    /// Mail left unread in IMAP or left on the POP3 server after it was stored.
    var mailboxProblems: [String] = []
    /// The run itself did not get where it should (quiet never reached, a comment that could not be made).
    var harnessProblems: [String] = []

    /// Mails with at least one loss problem (a problem names its mail token first).
    var lostMails: Int { Set(lost.map { $0.prefix { $0 != ":" } }).count }
    var duplicatedItems: Int { Set(duplicated.map { $0.prefix { $0 != ":" } }).count }

    var summary: String {
        let moments = killMoments.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", ")
        let events = mailboxEvents.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", ")
        return """
            crash harness: seed \(seed) (POSTDESK_CRASH_SEED=\(seed) replays the schedule)
              mails \(mails) (IMAP \(imapMails), POP3 \(pop3Mails)); kills \(kills) (\(moments))
              kills that left work for the next server (of \(killsReadBack) read back): \(killsWithUnprocessedMail) with unprocessed mail, \(killsBetweenStoreAndFlag) between storing and flagging, \(killsWithUnsentNotifications) with unsent notifications
              lost \(lostMails); duplicated \(duplicatedItems)
              notifications \(comments): \(notificationCopies) copies received, \(resentCopies) resent with the same Message-ID
              comment calls cut by a kill \(failedCommentCalls), of which committed before the kill \(committedDespiteFailure)
              mailbox events in the log: \(events.isEmpty ? "none" : events)
              mailbox problems \(mailboxProblems.count); harness problems \(harnessProblems.count)
              kill phase \(Self.seconds(killPhase)); whole run \(Self.seconds(duration)); data \(dataDirectory)
            """
    }

    static func seconds(_ duration: Duration) -> String {
        let seconds = Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
        return String(format: "%.1f s", seconds)
    }
}
