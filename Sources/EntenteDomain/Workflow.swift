public import EntenteCore

/// The life cycle of an object kind: the states of one joint field (`stage`, say) and the moves between them.
///
/// Moves are checked when made locally. Two companies may move an object concurrently while offline; every
/// replica then shows the same state, chosen by `resolve` (see `Specs/domain.md`), and the other move stays
/// visible as a conflict.
public struct Workflow: Hashable, Sendable {
    /// The joint field that holds the state.
    public let field: String
    /// Every state, in the order of the usual path.
    public let states: [String]
    /// The state a new object starts in when none is given.
    public let initial: String
    /// States that end the life cycle: only the owner may leave them, and only explicitly (a reopen).
    public let terminal: Set<String>
    /// The moves allowed from each state (to any of the listed states).
    public let moves: [String: [String]]
    /// For a terminal state, the states the owner may reopen it to.
    public let reopen: [String: [String]]
    /// States a plain move may not enter, with the command that does it instead (a lead's `converted`).
    public let reservedStates: [String: String]
    /// Fields that must hold a value when entering a state (closed-lost needs a reason).
    public let requires: [String: [String]]

    /// Creates a workflow; `moves` lists the forward and sideways moves of each open state.
    public init(
        field: String = "stage",
        states: [String],
        initial: String? = nil,
        terminal: Set<String>,
        moves: [String: [String]],
        reopen: [String: [String]] = [:],
        reservedStates: [String: String] = [:],
        requires: [String: [String]] = [:]
    ) {
        self.field = field
        self.states = states
        self.initial = initial ?? states[0]
        self.terminal = terminal
        self.moves = moves
        self.reopen = reopen
        self.reservedStates = reservedStates
        self.requires = requires
    }

    /// The states that are not terminal.
    public var openStates: [String] { states.filter { !terminal.contains($0) } }

    /// Why moving from `from` (nil for a new object) to `to` is not allowed, or nil if it is.
    /// - Parameters:
    ///   - isOwner: the mover owns the object (only the owner may reopen a terminal state).
    ///   - reopening: the mover asked explicitly to leave a terminal state.
    ///   - isReservedAllowed: the caller is the command that enters reserved states (a lead's conversion).
    public func problem(
        from: String?,
        to: String,
        isOwner: Bool,
        reopening: Bool = false,
        isReservedAllowed: Bool = false
    ) -> String? {
        guard states.contains(to) else {
            return "'\(to)' is not a \(field); use one of: \(states.joined(separator: ", "))"
        }
        if let command = reservedStates[to], !isReservedAllowed {
            return "a plain move cannot enter '\(to)'; use `\(command)`"
        }
        guard let from, from != to else { return nil }
        guard states.contains(from) else { return nil }  // an unknown current value (a CRM import) moves freely
        if terminal.contains(from) {
            guard reopen[from, default: []].contains(to) else {
                return "'\(from)' is final; it cannot move to '\(to)'"
            }
            guard isOwner else { return "'\(from)' is final; only the owner can reopen it" }
            guard reopening else { return "'\(from)' is final; reopen it explicitly (--reopen) to move it to '\(to)'" }
            return nil
        }
        guard moves[from, default: []].contains(to) else {
            let allowed = moves[from, default: []]
            return "cannot move from '\(from)' to '\(to)'; from '\(from)' the next states are: "
                + (allowed.isEmpty ? "none" : allowed.joined(separator: ", "))
        }
        return nil
    }

    /// The state every replica shows when concurrent moves left several values: a terminal state wins over an
    /// open one, then the later write (timestamp order, which is total), so the outcome is the same on every
    /// replica whatever the delivery order.
    /// - Parameter candidates: each concurrent value with its write's position in timestamp order (larger is
    ///   later).
    /// - Returns: the index of the winning candidate, or nil if there are none.
    public func resolve<Order: Comparable>(_ candidates: [(state: String, order: Order)]) -> Int? {
        candidates.indices.max { left, right in
            let leftFinal = terminal.contains(candidates[left].state)
            let rightFinal = terminal.contains(candidates[right].state)
            if leftFinal != rightFinal { return rightFinal }
            return candidates[left].order < candidates[right].order
        }
    }
}

extension ObjectKind {
    /// A field's concurrent values in display order, the shown value first. The workflow field shows the state
    /// the workflow's resolution picks (`Workflow.resolve`); every other field shows the core's winner (the
    /// latest write).
    public func ordered(_ field: FieldState, key: FieldKey) -> [Register] {
        guard let workflow, field.heads.count > 1, key == FieldKey(.joint, workflow.field) else { return field.heads }
        let candidates = field.heads.map { head -> (state: String, order: Timestamp) in
            switch head.value {
            case .string(let text), .enumeration(let text): (text, head.timestamp)
            default: ("", head.timestamp)
            }
        }
        guard let index = workflow.resolve(candidates), index != 0 else { return field.heads }
        var heads = field.heads
        let chosen = heads.remove(at: index)
        return [chosen] + heads
    }

    /// The workflow state an object shows (nil without a workflow or a state).
    public func state(of object: ObjectState) -> String? {
        guard let workflow else { return nil }
        let key = FieldKey(.joint, workflow.field)
        guard let field = object.fields[key] else { return nil }
        switch ordered(field, key: key).first?.value {
        case .string(let text), .enumeration(let text): return text
        default: return nil
        }
    }
}
