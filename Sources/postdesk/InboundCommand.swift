import AdminAPI
import ArgumentParser
import Foundation
import PostdeskWire

struct InboundCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inbound",
        abstract: "Stored inbound mail: show one, retry failed ones, release or drop held ones.",
        discussion: """
            Examples:
              postdesk inbound show 42 --raw > mail.eml
              postdesk inbound retry --all-failed
            """,
        subcommands: [Show.self, Retry.self, Release.self, Drop.self])

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show one stored mail (the ID is in `postdesk log --json`); --raw prints its bytes.",
            discussion: """
                Examples:
                  postdesk inbound show 42
                  postdesk inbound show 42 --raw > mail.eml && postdesk inspect mail.eml
                """)
        @OptionGroup var options: AdminOptions
        @Argument(help: "Inbound mail id.") var id: Int64
        @Flag(help: "Print the mail exactly as it was fetched, e.g. `> mail.eml` for `postdesk inspect`.")
        var raw = false

        func run() async throws {
            if raw {
                let data = try await admin {
                    try await options.client.raw(.GET, "/v1/inbound/\(id)/raw", body: String?.none)
                }
                return FileHandle.standardOutput.write(data)
            }
            let data = try await admin { try await options.client.raw(.GET, "/v1/inbound/\(id)", body: String?.none) }
            if options.json { return printJSON(data) }
            let mail = try decodeAnswer(InboundView.self, data)
            var rows = [
                ["id", String(mail.id)], ["channel", mail.channel], ["mailbox uid", mail.mailboxUid ?? ""],
                ["message-id", mail.messageId ?? ""], ["from", mail.from ?? ""], ["subject", mail.subject ?? ""],
                ["fetched", mail.fetchedAt.shortText], ["processed", mail.processedAt?.shortText ?? "not yet"],
                ["outcome", mail.outcome.rawValue + (mail.request.map { " " + $0 } ?? "")],
                ["attempts", String(mail.attempts)], ["size", "\(mail.size) bytes"],
            ]
            if let detail = mail.detail { rows.append(["detail", detail]) }
            for note in mail.notes ?? [] { rows.append(["note", note]) }
            print(table(["FIELD", "VALUE"], rows))
        }
    }

    /// One id, or all of a kind (`--all-failed`), or one sender.
    struct Selection: ParsableArguments {
        @OptionGroup var options: AdminOptions
        @Argument(help: "Inbound mail id.") var id: Int64?
        @Option(help: "Every such mail from this sender.") var sender: String?
        @Flag(help: "Every such mail.") var all = false

        func send(_ action: String, what: String) async throws {
            guard [id != nil, sender != nil, all].filter({ $0 }).count == 1 else {
                throw ValidationError("name one inbound mail id, --sender ADDRESS, or --all")
            }
            let body = InboundSelectionBody(id: id, sender: sender, all: all ? true : nil)
            let data = try await admin { try await options.client.raw(.POST, "/v1/inbound/\(action)", body: body) }
            if options.json { return printJSON(data) }
            let changed = try decodeAnswer(InboundChangeView.self, data)
            if changed.ids.isEmpty { return print("No \(what) mail matched.") }
            print("\(action.capitalized): \(changed.ids.map(String.init).joined(separator: ", ")).")
        }
    }

    struct Retry: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Process failed (or quarantined) mail again, with fresh attempts.",
            discussion: """
                Examples:
                  postdesk inbound retry 42
                  postdesk inbound retry --all-failed
                """)
        @OptionGroup var selection: Selection
        @Flag(help: "Every failed mail (the same as --all).") var allFailed = false

        func run() async throws {
            var selection = selection
            if allFailed { selection.all = true }
            try await selection.send("retry", what: "failed")
        }
    }

    struct Release: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Process mail the per-sender rate limit held, without the limit.",
            discussion: """
                Example:
                  postdesk inbound release --sender alice@customer.test
                """)
        @OptionGroup var selection: Selection
        func run() async throws { try await selection.send("release", what: "held") }
    }

    struct Drop: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Give up mail the per-sender rate limit held; it stays stored and logged as ignored.",
            discussion: """
                Example:
                  postdesk inbound drop --sender robot@noisy.test
                """)
        @OptionGroup var selection: Selection
        func run() async throws { try await selection.send("drop", what: "held") }
    }
}
