import AdminAPI
import ArgumentParser
import Foundation
import PostdeskWire

struct OutboxCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "outbox", abstract: "Notifications: what was sent, what waits, what failed and the relay's words.",
        discussion: """
            Examples:
              postdesk outbox
              postdesk outbox --failed
              postdesk outbox retry --all-failed
            """,
        subcommands: [List.self, Retry.self, Release.self, Drop.self], defaultSubcommand: List.self)

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List notifications, newest first, with their attempts and the relay's last reply.",
            discussion: """
                Example:
                  postdesk outbox --held --limit 50
                """)
        @OptionGroup var options: AdminOptions
        @Flag(help: "Only notifications that were given up.") var failed = false
        @Flag(help: "Only notifications the per-recipient limit holds.") var held = false
        @Option(help: "At most this many.") var limit = 200

        func run() async throws {
            let path =
                "/v1/outbox?limit=\(limit)" + (failed ? "&status=failed" : "") + (held ? "&status=held" : "")
            let data = try await admin { try await options.client.raw(.GET, path, body: String?.none) }
            if options.json { return printJSON(data) }
            let items = try decodeAnswer([OutboxItemView].self, data)
            if items.isEmpty { return print(failed ? "No failed notifications." : "No notifications yet.") }
            print(
                table(
                    ["ID", "REQUEST", "TO", "STATUS", "TRIES", "NEXT", "SENT", "LAST REPLY"],
                    items.map { item in
                        var reply = item.lastReply.map(oneLine) ?? ""
                        if let held = item.heldBecause {
                            reply = "held: \(held)" + (reply.isEmpty ? "" : "; last: \(reply)")
                        }
                        let refused = item.refusedRecipients.sorted { $0.key < $1.key }
                            .map { "\($0.key) (\(oneLine($0.value)))" }
                        if !refused.isEmpty {
                            reply += (reply.isEmpty ? "" : "; ") + "refused " + refused.joined(separator: ", ")
                        }
                        return [
                            String(item.id), item.request, item.recipients.joined(separator: ", "),
                            item.status.rawValue,
                            String(item.attempts), item.nextAttemptAt?.shortText ?? "", item.sentAt?.shortText ?? "",
                            reply,
                        ]
                    }))
        }
    }

    struct Retry: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Send failed notifications again: they become pending, due now, and the notifier is woken.",
            discussion: """
                Examples:
                  postdesk outbox retry 7
                  postdesk outbox retry --all-failed
                """)
        @OptionGroup var options: AdminOptions
        @Argument(help: "The notification's id (see postdesk outbox --failed).") var id: Int64?
        @Flag(help: "Every failed notification.") var allFailed = false

        func validate() throws {
            if (id == nil) == !allFailed { throw ValidationError("give a notification id or --all-failed") }
        }

        func run() async throws {
            let path = id.map { "/v1/outbox/\($0)/retry" } ?? "/v1/outbox/retry-failed"
            let data = try await admin { try await options.client.raw(.POST, path, body: String?.none) }
            if options.json { return printJSON(data) }
            let result = try decodeAnswer(OutboxRetryResult.self, data)
            switch result.retried.count {
            case 0: print("No failed notifications.")
            case 1: print("Notification \(result.retried[0]) is pending again; the notifier sends it now.")
            default: print("\(result.retried.count) notifications are pending again; the notifier sends them now.")
            }
        }
    }
}

/// `outbox release` and `outbox drop`: what the per-recipient limit held.
struct HeldSelection: ParsableArguments {
    @OptionGroup var options: AdminOptions
    @Argument(help: "The notification's id (see postdesk outbox --held).") var id: Int64?
    @Flag(help: "Every held notification.") var allHeld = false

    func send(_ action: String, done: String) async throws {
        if (id == nil) == !allHeld { throw ValidationError("give a notification id or --all-held") }
        let path = "/v1/outbox/\(action)" + (id.map { "?id=\($0)" } ?? "")
        let data = try await admin { try await options.client.raw(.POST, path, body: String?.none) }
        if options.json { return printJSON(data) }
        let ids = try decodeAnswer(OutboxRetryResult.self, data).retried
        print(ids.isEmpty ? "No held notifications." : "\(done): \(ids.map(String.init).joined(separator: ", ")).")
    }
}

extension OutboxCommand {
    struct Release: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Send notifications the per-recipient limit held (20 an hour to one address).",
            discussion: """
                Example:
                  postdesk outbox release --all-held
                """)
        @OptionGroup var selection: HeldSelection
        func run() async throws { try await selection.send("release", done: "Released, sending now") }
    }

    struct Drop: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Give up notifications the per-recipient limit held; they stay listed as failed.",
            discussion: """
                Example:
                  postdesk outbox drop 7
                """)
        @OptionGroup var selection: HeldSelection
        func run() async throws { try await selection.send("drop", done: "Dropped") }
    }
}

/// A server reply on one line: multi-line SMTP replies are joined with " / ".
private func oneLine(_ text: String) -> String {
    text.split(whereSeparator: \.isNewline).joined(separator: " / ")
}
