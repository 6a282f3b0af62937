import AdminAPI
import ArgumentParser
import Foundation
import PostdeskWire

extension AgentRole: ExpressibleByArgument {}

struct AgentCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "agent", abstract: "Manage the agents who sign in to the web console.",
        discussion: """
            Examples:
              postdesk agent add alice@desk.test --name "Alice Agent" --role agent
              postdesk agent list
              postdesk agent disable alice@desk.test
            """,
        subcommands: [Add.self, List.self, Disable.self])

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add an agent, with a password from a file or a one-time link to set it.",
            discussion: """
                The password (at least 10 characters) is read from the first line of --password-file ('-': stdin)
                and stored as a bcrypt hash. Without --password-file, a one-time link is printed instead: the
                agent sets their password there within 48 hours.

                Examples:
                  postdesk agent add alice@desk.test --name "Alice Agent" --role agent
                  postdesk agent add root@desk.test --name Admin --role admin --password-file pw.txt
                """)
        @OptionGroup var options: AdminOptions
        @Argument(help: "The agent's email address (their sign-in name).") var email: String
        @Option(help: "The agent's name, shown in the console and to customers.") var name: String
        @Option(help: "admin or agent.") var role: AgentRole
        @Option(help: "File holding the password ('-': read from stdin); without it a one-time link is printed.")
        var passwordFile: String?

        func run() async throws {
            var password: String?
            if let passwordFile {
                password = try readSecret(file: passwordFile == "-" ? nil : passwordFile, what: "password")
            }
            let body = AgentBody(email: email, name: name, role: role, password: password)
            let data = try await admin { try await options.client.raw(.POST, "/v1/agents", body: body) }
            if options.json { return printJSON(data) }
            let added = try decodeAnswer(AgentAdded.self, data)
            print("Added agent \(added.agent.email) (\(added.agent.name), \(added.agent.role.rawValue)).")
            guard let path = added.setupPath else { return }
            // The console's address when the server has one, else the path on it.
            let console = try? await options.client.call(.GET, "/v1/console", as: ConsoleInfoView.self)
            let base = (console?.address).map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 } ?? ""
            print("Set the password within 48 hours at: \(base)\(path)")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List the agents; passwords are never shown, only whether one is set.",
            discussion: """
                Examples:
                  postdesk agent list
                  postdesk agent list --json
                """)
        @OptionGroup var options: AdminOptions

        func run() async throws {
            let data = try await admin { try await options.client.raw(.GET, "/v1/agents", body: String?.none) }
            if options.json { return printJSON(data) }
            let agents = try decodeAnswer([Agent].self, data)
            if agents.isEmpty { return print("No agents; add one with postdesk agent add.") }
            print(
                table(
                    ["EMAIL", "NAME", "ROLE", "STATE", "PASSWORD"],
                    agents.map {
                        [
                            $0.email, $0.name, $0.role.rawValue, $0.disabled ? "disabled" : "active",
                            $0.passwordSet ? "set" : "not set",
                        ]
                    }))
        }
    }

    struct Disable: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Disable an agent: they are signed out and can no longer sign in or be assigned.",
            discussion: """
                Example:
                  postdesk agent disable alice@desk.test
                """)
        @OptionGroup var options: AdminOptions
        @Argument(help: "The agent's email address.") var email: String

        func run() async throws {
            let path =
                "/v1/agents/"
                + (email.addingPercentEncoding(
                    withAllowedCharacters: .urlPathAllowed.subtracting(CharacterSet(charactersIn: "/"))) ?? email)
                + "/disable"
            let data = try await admin { try await options.client.raw(.POST, path, body: String?.none) }
            if options.json { return printJSON(data) }
            let agent = try decodeAnswer(Agent.self, data)
            print("Disabled agent \(agent.email); their console sessions have ended.")
        }
    }
}
