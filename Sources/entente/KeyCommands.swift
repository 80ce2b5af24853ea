import ArgumentParser
import Entente
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Passphrases for protected key files: `ENTENTE_PASSPHRASE`, else typed at the terminal (not echoed).
enum Passphrase {
    static var environment: [String: String] { ProcessInfo.processInfo.environment }

    /// The passphrase to open a node whose keys are protected (nil if they are not).
    static func forOpening(_ directory: URL) throws -> String? {
        guard Node.keysAreProtected(at: directory) else { return nil }
        if let given = environment["ENTENTE_PASSPHRASE"] { return given }
        guard isatty(STDIN_FILENO) == 1 else {
            throw EntenteError(
                .keys,
                "the keys in \(directory.path)/keys are protected by a passphrase: set ENTENTE_PASSPHRASE"
            )
        }
        return try prompt("Passphrase for \(directory.path): ")
    }

    /// A new passphrase: from `variable`, else typed twice at the terminal.
    static func new(from variable: String) throws -> String {
        if let given = environment[variable] {
            guard !given.isEmpty else { throw EntenteError(.invalidArgument, "\(variable) is empty") }
            return given
        }
        guard isatty(STDIN_FILENO) == 1 else {
            throw EntenteError(.invalidArgument, "give the new passphrase in \(variable) (no terminal to ask on)")
        }
        let first = try prompt("New passphrase: ")
        guard first.count >= 8 else { throw EntenteError(.invalidArgument, "use a passphrase of at least 8 characters") }
        guard try prompt("Repeat it: ") == first else {
            throw EntenteError(.invalidArgument, "the two passphrases differ")
        }
        return first
    }

    static func prompt(_ text: String) throws -> String {
        guard let typed = getpass(text) else { throw EntenteError(.keys, "cannot read a passphrase from the terminal") }
        return String(cString: typed)
    }
}

struct KeyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "key",
        abstract: "Manage this node's secret key files.",
        subcommands: [KeyPassphrase.self, KeyRotate.self]
    )
}

struct KeyPassphrase: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "passphrase",
        abstract: "Protect the key files with a passphrase, change it, or remove it (--remove).",
        discussion: """
            The keys are encrypted with a key derived from the passphrase by Argon2id (libsodium crypto_pwhash, \
            interactive limits) and sealed with crypto_secretbox; every later command needs the passphrase \
            (ENTENTE_PASSPHRASE, or typed when asked). The current passphrase comes from ENTENTE_PASSPHRASE or \
            the terminal; the new one from ENTENTE_NEW_PASSPHRASE or the terminal (typed twice).
            """
    )
    @OptionGroup var node: NodeOptions
    @Flag(help: "Store the keys unprotected again.") var remove = false

    func run() async throws {
        try await guarded {
            let old = try Passphrase.forOpening(node.directory)
            let new = remove ? nil : try Passphrase.new(from: "ENTENTE_NEW_PASSPHRASE")
            try Node.changePassphrase(at: node.directory, old: old, new: new)
            Output.progress(remove ? "the key files are no longer protected" : "the key files are protected by the new passphrase")
        }
    }
}

struct KeyRotate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rotate",
        abstract: "Replace this replica's signing key with a new one certified by the company key.",
        discussion: """
            Partners accept the new key at once: its certificate verifies against the company key they pinned. \
            What the old key signed stays valid. The replica gets a new id and numbers its envelopes from 1. \
            Needs the company signing key (run it on a company node, not on an enrolled laptop).
            """
    )
    @OptionGroup var node: NodeOptions
    @Flag(help: "Print the result as JSON.") var json = false

    func run() async throws {
        try await guarded {
            let ids = try Node.rotateReplicaKey(
                at: node.directory,
                options: Node.Options(passphrase: try Passphrase.forOpening(node.directory))
            )
            if json {
                Output.print(JSON.object([("old_replica", .string(ids.old.hex)), ("replica", .string(ids.new.hex))]).rendered())
            } else {
                Output.print("replica key rotated: \(ids.old.short) -> \(ids.new.short)")
            }
        }
    }
}
