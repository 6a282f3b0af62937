import AdminAPI
import ArgumentParser
import Foundation
import PostdeskWire

struct NodesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "nodes", abstract: "List the desk's nodes (serve --database) and the mailboxes each holds.",
        discussion: """
            Any node answers for the whole desk: the list comes from the shared database. A live node heartbeats; \
            one that left (a graceful shutdown) says when, and one that died is not live once its heartbeat ran \
            out. Each mailbox has exactly one owner; postdesk status --json shows every mailbox's owner, lease \
            expiry and fencing token.

            Examples:
              postdesk nodes
              postdesk nodes --json
            """)
    @OptionGroup var options: AdminOptions

    func run() async throws {
        let data = try await admin { try await options.client.raw(.GET, "/v1/nodes", body: String?.none) }
        if options.json { return printJSON(data) }
        let nodes = try decodeAnswer([NodeView].self, data)
        if nodes.isEmpty { return print("No node has joined yet.") }
        print(
            table(
                ["NODE", "STATE", "STARTED", "HEARTBEAT", "MAILBOXES"],
                nodes.map {
                    [
                        $0.name,
                        $0.live ? "live" : ($0.stoppedAt.map { "left \($0.shortText)" } ?? "gone (no heartbeat)"),
                        $0.startedAt.shortText, $0.heartbeatAt.shortText, String($0.mailboxes.count),
                    ]
                }))
        for node in nodes where !node.mailboxes.isEmpty {
            print("\(node.name): " + node.mailboxes.joined(separator: ", "))
        }
    }
}
