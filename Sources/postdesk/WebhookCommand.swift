import AdminAPI
import ArgumentParser
import Foundation
import PostdeskWire

extension WebhookEvent: ExpressibleByArgument {}

struct WebhookCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "webhook", abstract: "Outbound webhooks: tell another ticket system what happens here.",
        discussion: """
            Each event (request.created, comment.added, request.updated) is POSTed as JSON to the webhook's URL,
            signed with HMAC-SHA256 (X-Postdesk-Signature), and retried with backoff until the receiver answers
            2xx; every attempt is recorded. docs/WEBHOOKS.md shows the payloads and how to verify the signature.

            Examples:
              postdesk webhook add https://tickets.example.com/hooks/postdesk --event request.created --project SD
              postdesk webhook list
              postdesk webhook deliveries 1
              postdesk webhook retry 42
              postdesk webhook remove 1
            """,
        subcommands: [Add.self, List.self, Remove.self, Disable.self, Enable.self, Deliveries.self, Retry.self])

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add a webhook; its signing secret is printed once.",
            discussion: """
                The URL must be https, or plain http to this machine (127.0.0.1, ::1, localhost).

                Examples:
                  postdesk webhook add https://tickets.example.com/hooks/postdesk
                  postdesk webhook add https://crm.example.com/in --event comment.added --event request.updated
                """)
        @OptionGroup var options: AdminOptions
        @Argument(help: "Where to POST the events.") var url: String
        @Option(
            name: .customLong("event"),
            help: "An event to send (request.created, comment.added, request.updated); repeat for more; default all.")
        var events: [WebhookEvent] = []
        @Option(help: "Only this project's events (its key); default every project.") var project: String?

        func run() async throws {
            let data = try await admin {
                try await options.client.raw(
                    .POST, "/v1/webhooks", body: WebhookBody(url: url, events: events, project: project))
            }
            if options.json { return printJSON(data) }
            let created = try decodeAnswer(WebhookCreated.self, data)
            print(
                "Added webhook \(created.webhook.id) for \(created.webhook.events.map(\.rawValue).joined(separator: ", "))"
                    + " (\(created.webhook.project.map { "project \($0)" } ?? "every project")).")
            print("Its signing secret, shown only now:")
            print(created.secret)
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List the webhooks with their pending and failed deliveries (never their secrets).",
            discussion: """
                Examples:
                  postdesk webhook list
                  postdesk webhook list --json
                """)
        @OptionGroup var options: AdminOptions

        func run() async throws {
            let data = try await admin { try await options.client.raw(.GET, "/v1/webhooks", body: String?.none) }
            if options.json { return printJSON(data) }
            let webhooks = try decodeAnswer([WebhookView].self, data)
            if webhooks.isEmpty { return print("No webhooks; add one with postdesk webhook add.") }
            print(
                table(
                    ["ID", "URL", "EVENTS", "PROJECT", "ACTIVE", "PENDING", "FAILED", "LAST SENT"],
                    webhooks.map {
                        [
                            String($0.id), $0.url, $0.events.map(\.rawValue).joined(separator: ","),
                            $0.project ?? "all",
                            $0.active ? "yes" : "no", String($0.pending), String($0.failed),
                            $0.lastSentAt?.shortText ?? "never",
                        ]
                    }))
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Remove a webhook with its deliveries; pending ones are not sent.",
            discussion: """
                Example:
                  postdesk webhook remove 1
                """)
        @OptionGroup var options: AdminOptions
        @Argument(help: "The webhook's id (see postdesk webhook list).") var id: Int64

        func run() async throws {
            let data = try await admin {
                try await options.client.raw(.DELETE, "/v1/webhooks/\(id)", body: String?.none)
            }
            if options.json { return printJSON(data) }
            print("Removed webhook \(id).")
        }
    }

    struct Disable: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Stop a webhook for now: it gets no new deliveries and its pending ones wait.",
            discussion: """
                Example (the receiver is down for maintenance):
                  postdesk webhook disable 1
                """)
        @OptionGroup var options: AdminOptions
        @Argument(help: "The webhook's id (see postdesk webhook list).") var id: Int64

        func run() async throws { try await setActive(options, id, action: "disable") }
    }

    struct Enable: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Start a disabled webhook again: what waited is sent, then new deliveries.",
            discussion: """
                Example:
                  postdesk webhook enable 1
                """)
        @OptionGroup var options: AdminOptions
        @Argument(help: "The webhook's id (see postdesk webhook list).") var id: Int64

        func run() async throws { try await setActive(options, id, action: "enable") }
    }

    /// `disable` or `enable` through the admin socket, printed as one line.
    static func setActive(_ options: AdminOptions, _ id: Int64, action: String) async throws {
        let data = try await admin {
            try await options.client.raw(.POST, "/v1/webhooks/\(id)/\(action)", body: String?.none)
        }
        if options.json { return printJSON(data) }
        let webhook = try decodeAnswer(WebhookView.self, data)
        let pending = webhook.pending
        if webhook.active {
            print("Webhook \(id) is enabled." + (pending > 0 ? " Its \(pending) pending deliveries are sent now." : ""))
        } else {
            print(
                "Webhook \(id) is disabled: no new deliveries"
                    + (pending > 0 ? ", and its \(pending) pending wait." : "."))
        }
    }

    struct Deliveries: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "A webhook's deliveries, newest first, with their attempts and the receiver's last answer.",
            discussion: """
                Examples:
                  postdesk webhook deliveries 1
                  postdesk webhook deliveries 1 --limit 200 --json
                """)
        @OptionGroup var options: AdminOptions
        @Argument(help: "The webhook's id.") var id: Int64
        @Option(help: "At most this many.") var limit = 50

        func run() async throws {
            let data = try await admin {
                try await options.client.raw(
                    .GET, "/v1/webhooks/\(id)/deliveries?limit=\(limit)", body: String?.none)
            }
            if options.json { return printJSON(data) }
            let deliveries = try decodeAnswer([WebhookDeliveryView].self, data)
            if deliveries.isEmpty { return print("No deliveries for webhook \(id) yet.") }
            print(
                table(
                    ["ID", "EVENT", "STATUS", "TRIES", "NEXT", "SENT", "HTTP", "LAST ANSWER"],
                    deliveries.map {
                        [
                            String($0.id), $0.event.rawValue, $0.status.rawValue, String($0.attempts),
                            $0.nextAttemptAt?.shortText ?? "", $0.sentAt?.shortText ?? "",
                            $0.responseCode.map(String.init) ?? "",
                            ($0.lastResponse ?? "").split(whereSeparator: \.isNewline).joined(separator: " / "),
                        ]
                    }))
        }
    }

    struct Retry: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Send a failed delivery again: it becomes pending, due now, with a fresh count of attempts.",
            discussion: """
                Example:
                  postdesk webhook retry 42
                """)
        @OptionGroup var options: AdminOptions
        @Argument(help: "The delivery's id (see postdesk webhook deliveries).") var delivery: Int64

        func run() async throws {
            let data = try await admin {
                try await options.client.raw(.POST, "/v1/webhooks/deliveries/\(delivery)/retry", body: String?.none)
            }
            if options.json { return printJSON(data) }
            print("Delivery \(delivery) is pending again; it is sent within a second.")
        }
    }
}
