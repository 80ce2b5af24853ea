import EntenteDomain
import Testing

/// Every workflow's moves, checked pair by pair against the tables of `Specs/domain.md`, written out here by
/// hand (not derived from the catalog).
@Suite("Workflows")
struct WorkflowTests {
    /// "from>to" for every plain move the spec allows.
    static let allowed: [String: Set<String>] = {
        let open = ["prospect", "qualified", "technical-validation", "business-validation", "committed"]
        var opportunity: Set<String> = []
        for from in open {
            for to in open + ["closed-won", "closed-lost"] where to != from { opportunity.insert("\(from)>\(to)") }
        }
        return [
            "opportunity": opportunity,
            "lead": [
                "new>working", "new>disqualified", "working>qualified", "working>disqualified", "qualified>converted",
                "qualified>disqualified",
            ],
            "account-plan": ["in-planning>in-execution", "in-execution>closed"],
            "sales-plan": ["in-planning>in-execution", "in-execution>closed"],
            "solution": [
                "business-review>approval", "business-review>declined", "business-review>canceled",
                "approval>partner-approval", "approval>declined", "approval>canceled",
                "partner-approval>execution", "partner-approval>declined", "partner-approval>canceled",
                "execution>completion", "execution>canceled",
            ],
            "fund-request": [
                "draft>submitted", "draft>canceled", "submitted>in-review", "submitted>canceled",
                "in-review>approved", "in-review>rejected", "in-review>canceled", "rejected>draft", "rejected>canceled",
                "approved>in-execution", "approved>canceled", "approved>expired", "in-execution>claim-open",
                "in-execution>canceled", "in-execution>expired", "claim-open>completed", "claim-open>canceled",
                "claim-open>expired",
            ],
            "claim": ["draft>submitted", "submitted>approved", "submitted>rejected", "approved>paid"],
        ]
    }()

    /// "from>to" for every reopen (owner only, explicit).
    static let reopens: [String: Set<String>] = [
        "opportunity": Set(
            ["closed-won", "closed-lost"].flatMap { from in
                ["prospect", "qualified", "technical-validation", "business-validation", "committed"].map {
                    "\(from)>\($0)"
                }
            }
        ),
        "lead": ["disqualified>working"],
        "account-plan": ["closed>in-execution"],
        "sales-plan": ["closed>in-execution"],
    ]

    static let terminal: [String: Set<String>] = [
        "opportunity": ["closed-won", "closed-lost"], "lead": ["converted", "disqualified"],
        "account-plan": ["closed"], "sales-plan": ["closed"], "solution": ["completion", "declined", "canceled"],
        "fund-request": ["completed", "canceled", "expired"], "claim": ["rejected", "paid"],
    ]

    @Test("the kinds with a workflow are exactly those of the spec")
    func kinds() {
        #expect(Set(Catalog.all.filter { $0.workflow != nil }.map(\.name)) == Set(Self.allowed.keys))
        #expect(Catalog.program.workflow == nil)
    }

    @Test(
        "each pair of states: allowed moves pass, every other move is refused with a reason",
        arguments: Array(allowed.keys).sorted()
    )
    func everyPair(kindName: String) throws {
        let workflow = try #require(Catalog.kind(named: kindName)?.workflow)
        #expect(workflow.terminal == Self.terminal[kindName])
        for from in workflow.states {
            for to in workflow.states where to != from {
                let edge = "\(from)>\(to)"
                let reserved = workflow.reservedStates[to] != nil
                let plain = workflow.problem(from: from, to: to, isOwner: true, isReservedAllowed: true)
                let asOwnerReopening = workflow.problem(
                    from: from,
                    to: to,
                    isOwner: true,
                    reopening: true,
                    isReservedAllowed: true
                )
                if Self.allowed[kindName, default: []].contains(edge) {
                    #expect(plain == nil, "\(kindName) \(edge) should be allowed: \(plain ?? "")")
                    if reserved {
                        let problem = workflow.problem(from: from, to: to, isOwner: true)
                        #expect(problem?.contains("entente convert") == true, "\(edge): \(problem ?? "allowed")")
                    }
                } else if Self.reopens[kindName, default: []].contains(edge) {
                    #expect(plain?.contains("reopen") == true, "\(kindName) \(edge) needs an explicit reopen")
                    #expect(asOwnerReopening == nil, "\(kindName) \(edge) should reopen: \(asOwnerReopening ?? "")")
                    let partner = workflow.problem(from: from, to: to, isOwner: false, reopening: true)
                    #expect(partner?.contains("only the owner") == true, "\(kindName) \(edge) by a partner")
                } else {
                    #expect(asOwnerReopening != nil, "\(kindName) \(edge) should be refused")
                    #expect(asOwnerReopening?.contains("'\(to)'") == true, "\(asOwnerReopening ?? "")")
                }
            }
        }
    }

    @Test("a new object may start in any state; an unknown state is refused naming the allowed ones")
    func startAndUnknown() throws {
        let workflow = try #require(Catalog.opportunity.workflow)
        for state in workflow.states { #expect(workflow.problem(from: nil, to: state, isOwner: false) == nil) }
        let problem = try #require(workflow.problem(from: "prospect", to: "won", isOwner: true))
        #expect(problem.contains("'won'") && problem.contains("closed-won"))
        #expect(workflow.problem(from: "Prospecting", to: "qualified", isOwner: false) == nil)
        #expect(workflow.requires["closed-lost"] == ["closed_lost_reason"])
    }

    @Test("concurrent moves resolve the same way in any order: terminal beats open, then the later write")
    func resolution() throws {
        let workflow = try #require(Catalog.opportunity.workflow)
        let cases: [([(String, Int)], String)] = [
            ([("qualified", 1), ("committed", 2)], "committed"),
            ([("committed", 2), ("qualified", 1)], "committed"),
            ([("closed-lost", 1), ("committed", 5)], "closed-lost"),
            ([("committed", 5), ("closed-won", 1), ("closed-lost", 3)], "closed-lost"),
            ([("closed-won", 9), ("closed-lost", 3), ("prospect", 10)], "closed-won"),
        ]
        for (candidates, expected) in cases {
            var rng = SystemRandomNumberGenerator()
            for _ in 0..<6 {
                let shuffled = candidates.shuffled(using: &rng)
                let index = try #require(workflow.resolve(shuffled.map { (state: $0.0, order: $0.1) }))
                #expect(shuffled[index].0 == expected, "\(shuffled)")
            }
        }
        #expect(workflow.resolve([(state: String, order: Int)]()) == nil)
    }
}
