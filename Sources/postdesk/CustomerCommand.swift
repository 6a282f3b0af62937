import AdminAPI
import ArgumentParser
import ServiceDesk

struct CustomerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "customer", abstract: "Manage a project's customers.",
        subcommands: [Add.self, List.self, Allow.self, Block.self, Unallow.self, Unblock.self, Rules.self])

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add a customer to a project.")
        @OptionGroup var options: AdminOptions
        @Argument(help: "Project key.") var project: String
        @Argument(help: "Customer's email address.") var address: String
        @Option(help: "Display name.") var name: String?

        func run() async throws {
            let body = CustomerBody(address: address, name: name)
            let data = try await admin {
                try await options.client.raw(.POST, "/v1/projects/\(project.uppercased())/customers", body: body)
            }
            if options.json { return printJSON(data) }
            print("Added customer \(address.lowercased()) to \(project.uppercased()).")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List a project's customers.")
        @OptionGroup var options: AdminOptions
        @Argument(help: "Project key.") var project: String

        func run() async throws {
            let data = try await admin {
                try await options.client.raw(.GET, "/v1/projects/\(project.uppercased())/customers", body: String?.none)
            }
            if options.json { return printJSON(data) }
            let customers = try decodeAnswer([CustomerView].self, data)
            print(table(["ADDRESS", "NAME"], customers.map { [$0.address, $0.name ?? ""] }))
        }
    }

    struct Allow: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Let an address or a whole domain raise requests under restricted signup.")
        @OptionGroup var options: AdminOptions
        @Argument(help: "Project key.") var project: String
        @Argument(help: "An address (a@b.c) or a domain (b.c).") var pattern: String
        func run() async throws { try await changeRule(options, project, .allow, pattern, add: true) }
    }

    struct Block: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Never turn mail from an address or a whole domain into requests or comments.")
        @OptionGroup var options: AdminOptions
        @Argument(help: "Project key.") var project: String
        @Argument(help: "An address (a@b.c) or a domain (b.c).") var pattern: String
        func run() async throws { try await changeRule(options, project, .block, pattern, add: true) }
    }

    struct Unallow: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove an entry from the allow list.")
        @OptionGroup var options: AdminOptions
        @Argument(help: "Project key.") var project: String
        @Argument(help: "The address or domain.") var pattern: String
        func run() async throws { try await changeRule(options, project, .allow, pattern, add: false) }
    }

    struct Unblock: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove an entry from the block list.")
        @OptionGroup var options: AdminOptions
        @Argument(help: "Project key.") var project: String
        @Argument(help: "The address or domain.") var pattern: String
        func run() async throws { try await changeRule(options, project, .block, pattern, add: false) }
    }

    struct Rules: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a project's allow and block lists.")
        @OptionGroup var options: AdminOptions
        @Argument(help: "Project key.") var project: String

        func run() async throws {
            let data = try await admin {
                try await options.client.raw(
                    .GET, "/v1/projects/\(project.uppercased())/customer-rules", body: String?.none)
            }
            if options.json { return printJSON(data) }
            let rules = try decodeAnswer([CustomerRuleBody].self, data)
            if rules.isEmpty { return print("No allow or block entries in \(project.uppercased()).") }
            print(table(["LIST", "ADDRESS OR DOMAIN"], rules.map { [$0.kind.rawValue, $0.pattern] }))
        }
    }
}

/// Adds or removes an allow/block entry and says what happened.
private func changeRule(
    _ options: AdminOptions, _ project: String, _ kind: CustomerRuleKind, _ pattern: String, add: Bool
) async throws {
    let body = CustomerRuleBody(kind: kind, pattern: pattern)
    let path = "/v1/projects/\(project.uppercased())/customer-rules"
    let data = try await admin { try await options.client.raw(add ? .POST : .DELETE, path, body: body) }
    if options.json { return printJSON(data) }
    let rule = try decodeAnswer(CustomerRuleBody.self, data)
    print(
        "\(add ? "Added" : "Removed") \(rule.pattern) \(add ? "to" : "from") the \(kind.rawValue) list of \(project.uppercased())."
    )
}
