import AdminAPI
import ArgumentParser
import PostdeskWire

extension SignupPolicy: ExpressibleByArgument {}

struct ProjectCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "project", abstract: "Create and list projects.",
        discussion: """
            Examples:
              postdesk project create SD --name "Service Desk" --signup public
              postdesk project list
            """, subcommands: [Create.self, List.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a project.",
            discussion: """
                Example:
                  postdesk project create SD --name "Service Desk" --signup restricted
                """)
        @OptionGroup var options: AdminOptions
        @Argument(help: "Project key, e.g. SD (2–10 letters or digits).") var key: String
        @Option(help: "Display name.") var name: String
        @Option(help: "public: anyone who writes becomes a customer; restricted: only added customers.")
        var signup: SignupPolicy = .restricted

        func run() async throws {
            let body = CreateProjectBody(key: key, name: name, signup: signup)
            let data = try await admin { try await options.client.raw(.POST, "/v1/projects", body: body) }
            if options.json { return printJSON(data) }
            print("Created project \(key.uppercased()) (\(name)), signup \(signup.rawValue).")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List projects.",
            discussion: """
                Example:
                  postdesk project list --json
                """)
        @OptionGroup var options: AdminOptions

        func run() async throws {
            let data = try await admin { try await options.client.raw(.GET, "/v1/projects", body: String?.none) }
            if options.json { return printJSON(data) }
            let projects = try decodeAnswer([ProjectView].self, data)
            print(table(["KEY", "NAME", "SIGNUP"], projects.map { [$0.key, $0.name, $0.signup.rawValue] }))
        }
    }
}
