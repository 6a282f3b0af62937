import AdminAPI
import ArgumentParser
import PostdeskWire

struct RequestCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "request", abstract: "Show and comment on requests.",
        discussion: """
            Examples:
              postdesk request show SD-1
              postdesk request comment SD-1 --author agent@desk.test --body "We are on it"
            """, subcommands: [Show.self, Comment.self])

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show a request with its comments.",
            discussion: """
                Example:
                  postdesk request show SD-1 --json
                """)
        @OptionGroup var options: AdminOptions
        @Argument(help: "Request key, e.g. SD-1.") var key: String

        func run() async throws {
            let data = try await admin {
                try await options.client.raw(.GET, "/v1/requests/\(key.uppercased())", body: String?.none)
            }
            if options.json { return printJSON(data) }
            let request = try decodeAnswer(RequestView.self, data)
            print("\(request.key): \(request.summary)")
            print("Status:   \(request.status)")
            print("Reporter: \(request.reporter)")
            if !request.participants.isEmpty { print("Participants: \(request.participants.joined(separator: ", "))") }
            print("")
            print(request.description)
            if !request.attachments.isEmpty {
                print("")
                print("Attachments:")
                for attachment in request.attachments {
                    print(
                        "  \(attachment.filename) (\(attachment.contentType), \(attachment.size) bytes) \(attachment.path)"
                    )
                }
            }
            for comment in request.comments {
                print("")
                print("--- \(comment.author) (\(comment.public ? "public" : "internal"), \(comment.source))")
                print(comment.body)
            }
        }
    }

    struct Comment: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Comment on a request; public comments are emailed to the customer.",
            discussion: """
                Examples:
                  postdesk request comment SD-1 --author agent@desk.test --body "We are on it"
                  postdesk request comment SD-1 --author agent@desk.test \\
                      --body "Called them" --internal
                """)
        @OptionGroup var options: AdminOptions
        @Argument(help: "Request key, e.g. SD-1.") var key: String
        @Option(help: "The agent's address.") var author: String
        @Option(help: "Comment text.") var body: String
        @Flag(help: "Internal note: not sent to the customer.") var `internal` = false

        func run() async throws {
            let payload = CommentBody(author: author, body: body, internal: `internal`)
            let data = try await admin {
                try await options.client.raw(.POST, "/v1/requests/\(key.uppercased())/comments", body: payload)
            }
            if options.json { return printJSON(data) }
            print(
                `internal`
                    ? "Added an internal comment to \(key.uppercased())."
                    : "Commented on \(key.uppercased()); the customer will be emailed.")
        }
    }
}
