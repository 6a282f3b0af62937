import AdminAPI
import ArgumentParser
import PostdeskWire

struct QueueCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "queue", abstract: "Show a project's requests.",
        discussion: """
            Examples:
              postdesk queue SD
              postdesk queue SD --json
            """)
    @OptionGroup var options: AdminOptions
    @Argument(help: "Project key.") var project: String

    func run() async throws {
        let data = try await admin {
            try await options.client.raw(.GET, "/v1/projects/\(project.uppercased())/queue", body: String?.none)
        }
        if options.json { return printJSON(data) }
        let items = try decodeAnswer([QueueRowView].self, data)
        if items.isEmpty { return print("No requests in \(project.uppercased()).") }
        print(
            table(
                ["KEY", "STATUS", "REPORTER", "CREATED", "SUMMARY"],
                items.map { [$0.key, $0.status, $0.reporter, $0.created.shortText, $0.summary] }))
    }
}
