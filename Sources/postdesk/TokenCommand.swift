import AdminAPI
import ArgumentParser
import Foundation
import PostdeskWire

struct TokenCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token", abstract: "Manage the tokens of the HTTP API for integrations.",
        discussion: """
            The HTTP listener (serve --http-listen) serves the admin socket's /v1 routes to requests that carry a
            token: Authorization: Bearer pd_…. An admin token may use every route there; an agent token what an
            agent does in the console (read projects, queues and requests; comment). Tokens are managed here only.

            Examples:
              postdesk token create --name crm --role agent
              postdesk token list
              postdesk token revoke crm
            """,
        subcommands: [Create.self, List.self, Revoke.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a token; its secret is printed once and stored only as a hash.",
            discussion: """
                Examples:
                  postdesk token create --name crm --role agent
                  postdesk token create --name ops --role admin --json
                """)
        @OptionGroup var options: AdminOptions
        @Option(help: "A name for the token (who uses it).") var name: String
        @Option(help: "admin or agent.") var role: AgentRole

        func run() async throws {
            let data = try await admin {
                try await options.client.raw(.POST, "/v1/tokens", body: APITokenBody(name: name, role: role))
            }
            if options.json { return printJSON(data) }
            let created = try decodeAnswer(APITokenCreated.self, data)
            print("Created token \(created.token.name) (\(created.token.role.rawValue)). Its secret, shown only now:")
            print(created.secret)
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List the tokens (never their secrets).",
            discussion: """
                Examples:
                  postdesk token list
                  postdesk token list --json
                """)
        @OptionGroup var options: AdminOptions

        func run() async throws {
            let data = try await admin { try await options.client.raw(.GET, "/v1/tokens", body: String?.none) }
            if options.json { return printJSON(data) }
            let tokens = try decodeAnswer([APIToken].self, data)
            if tokens.isEmpty { return print("No API tokens; create one with postdesk token create.") }
            print(
                table(
                    ["NAME", "ROLE", "CREATED", "LAST USED"],
                    tokens.map {
                        [$0.name, $0.role.rawValue, $0.createdAt.shortText, $0.lastUsedAt?.shortText ?? "never"]
                    }))
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Revoke a token: its next request is refused.",
            discussion: """
                Example:
                  postdesk token revoke crm
                """)
        @OptionGroup var options: AdminOptions
        @Argument(help: "The token's name.") var name: String

        func run() async throws {
            let data = try await admin {
                try await options.client.raw(.DELETE, "/v1/tokens/\(name)", body: String?.none)
            }
            if options.json { return printJSON(data) }
            print("Revoked token \(name).")
        }
    }
}
