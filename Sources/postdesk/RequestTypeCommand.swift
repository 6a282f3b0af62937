import AdminAPI
import ArgumentParser
import PostdeskWire

struct RequestTypeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "request-type", abstract: "Manage request types.",
        discussion: """
            Example:
              postdesk request-type add SD "Get help" --field summary:visible:required \\
                  --field description:visible:required
            """, subcommands: [Add.self, List.self])

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add a request type to a project.",
            discussion: """
                Example:
                  postdesk request-type add SD "Get help" --field summary:visible:required \\
                      --field description:visible:required
                """)
        @OptionGroup var options: AdminOptions
        @Argument(help: "Project key.") var project: String
        @Argument(help: "Request type name.") var name: String
        @Option(name: .customLong("field"), help: "NAME:visible|hidden:required|optional (repeatable).")
        var fields: [String] = []

        func run() async throws {
            var parsed: [RequestField] = []
            for text in fields {
                guard let field = RequestField(spec: text) else {
                    throw ValidationError("--field \(text): expected NAME:visible|hidden:required|optional")
                }
                parsed.append(field)
            }
            let body = RequestTypeBody(name: name, fields: parsed)
            let data = try await admin {
                try await options.client.raw(.POST, "/v1/projects/\(project.uppercased())/request-types", body: body)
            }
            if options.json { return printJSON(data) }
            let view = try decodeAnswer(RequestTypeView.self, data)
            print("Added request type \"\(view.name)\" to \(project.uppercased()).")
            if let problem = view.emailProblem { print("Note: it cannot receive email: \(problem).") }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List a project's request types.",
            discussion: """
                Example:
                  postdesk request-type list SD
                """)
        @OptionGroup var options: AdminOptions
        @Argument(help: "Project key.") var project: String

        func run() async throws {
            let data = try await admin {
                try await options.client.raw(
                    .GET, "/v1/projects/\(project.uppercased())/request-types", body: String?.none)
            }
            if options.json { return printJSON(data) }
            let types = try decodeAnswer([RequestTypeView].self, data)
            print(
                table(
                    ["NAME", "FIELDS", "EMAIL"],
                    types.map { type in
                        [
                            type.name,
                            type.fields.map(\.spec).joined(separator: ","),
                            type.emailProblem ?? "ok",
                        ]
                    }))
        }
    }
}
