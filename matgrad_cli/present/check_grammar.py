"""The claim language of ``matgrad check``, as ``matgrad check --grammar`` prints it.

It ships inside the package, so an installed matgrad can tell a student what it reads; every
example below is parsed by the tests, so the text cannot drift from the parser.
"""

from __future__ import annotations

#: Claims that show the notation, each with what it says; the tests parse every one, and check
#: the right ones right.
EXAMPLES: tuple[tuple[str, str], ...] = (
    ("dZ = G @ W.T", "∂L/∂Z, in NumPy's notation"),
    ("dW = Z.T @ G", "∂L/∂W"),
    ("db = sum(G, axis=0)", "∂L/∂b, the column sums of G"),
    ("dW = Z^T G", "juxtaposition is the matrix product"),
    ("dZ = G Wᵀ", "ᵀ, ^T, ^{T}, ', ^⊤, ^\\top, .T, .t(), .transpose() all transpose"),
    ("dZ = G · W'", "· ⋅ × and @ are the matrix product too"),
    ("dW = np.matmul(Z.T, G)", "matmul, dot, mm, with or without np., torch., jnp."),
    ("dW = Z.T.dot(G)", "methods: .dot(), .mm(), .matmul()"),
    ("db = G.sum(axis=0, keepdims=True)", "sum and mean: axis=, dim=, keepdims, keepdim"),
    ("db = ones((m, 1)).T @ G", "ones((r, c)), ones(r, c), ones(m), ones_like(G)"),
    ("dL/dW = Z' @ dL/dA", "dL/dX, ∂L/∂X, dX; G, dA, delta, dL/dA all mean ∂L/∂A"),
    ("∂L/∂Z = ∂L/∂A · Wᵀ", "the identities matgrad prints"),
    ("\\frac{\\partial L}{\\partial W} = Z^\\top \\frac{\\partial L}{\\partial A}", "LaTeX"),
    ("\\nabla_b L = \\mathbf{1}^\\top G", "\\nabla_X L; the size of 1 is inferred"),
    ("dZ = 2 * G @ W.T", "a number scales: 2 * X, 2 X, X / 2 (a wrong answer here)"),
    ("dW = Z.T @ G / m", "/ by a number or a size (wrong here: G already holds any 1/m)"),
    ("dZ = −G @ W.T", "the Unicode minus − (a wrong answer here)"),
    ("dX = W.T @ G", "--samples columns: ∂L/∂X"),
    ("dW = G @ X.T", "--samples columns: ∂L/∂W"),
    ("db = np.sum(G, axis=1, keepdims=True)", "--samples columns: ∂L/∂b, the row sums of G"),
    ("dW = G.T @ Z", "numerator layout, the transpose of ∂L/∂W (a wrong answer, said so first)"),
)

_HEADER = """\
The claim language of matgrad check

A claim is a gradient, '=', and a matrix expression:  dW = Z.T @ G

  The layer:  A = Z W + b   Z is m×k, W is k×n, b is 1×n (added to every row), A is m×n.
              With --samples columns: A = W X + b   X is k×m, W is n×k, b is n×1 (added to
              every column), A is n×m; m is the number of samples in both.
  Left side:  dZ, dW, db; also dL/dW, ∂L/∂W, ∂W, \\frac{\\partial L}{\\partial W}, \\nabla_W L.
  Names:      Z, W, b; G = ∂L/∂A (also dA, dL/dA, ∂L/∂A, delta); Y, the targets, and A
              and softmax(A) under a concrete --loss; m, k, n as sizes and numbers.
              X names the input with --samples columns (dX, X); a claim written with the
              other convention's name is read as the input, said in the report; a claim
              naming both Z and X is refused. An answer right with the other --samples, or
              in numerator layout (the transpose of the gradient), is wrong, and said so.
  Numbers:    2, 0.5, 1e-3 are exact; a number scales (2 * G, 2 G) or divides (G / m).

Operators, tightest first:
  transpose   X.T  X^T  X^{T}  X'  Xᵀ  X^⊤  X^\\top  X.t()  X.transpose()  np.transpose(X)
  sign        -X, −X (a harmless +X too)
  product     X @ Y, X Y (juxtaposition), X · Y, X ⋅ Y, X × Y, matmul(X, Y), X.dot(Y);
              X * Y, X .* Y, X ⊙ Y and multiply(X, Y) are elementwise (--dialect matlab
              or math: * is X @ Y);
              c * X and X / c scale by a number or a size
  sum         X + Y, X - Y; a 1×c row is added to every row of an r×c matrix (with
              --samples columns, an r×1 column to every column)

Functions (np., numpy., torch., jnp. may come first):
  sum(X, axis=0) adds up the rows (also X.sum(0), sum(X, dim=0), keepdims=True, keepdim=True);
  mean(X, axis=0) averages them; ones(r, c), ones((r, c)), ones(m), ones_like(X);
  1ᵀ and \\mathbf{1} take their size from the product they are in, and G 1 is a column of ones;
  softmax(A) under --loss softmax-cross-entropy; A and Z W + b, the layer's output;
  without keepdims a sum is 1-D, and is compared as a row, or with --samples columns as a
  column (the report says how it was read); with --samples columns the softmax is taken down
  each column, softmax(A, axis=0).

Examples:
"""

#: Claims about a network, each with what it says and the options it is checked with; the tests
#: parse every one, and check the right ones right and the wrong ones hinted.
NETWORK_EXAMPLES: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    (
        "dW1 = X.T @ ((G @ W2.T) * relu'(A1))",
        "∂L/∂W1, * elementwise",
        ("--hidden", "3", "--activation", "relu"),
    ),
    (
        "db1 = sum((G @ W2.T) * (A1 > 0), axis=0)",
        "(A1 > 0) is relu′",
        ("--hidden", "3", "--activation", "relu"),
    ),
    (
        "dA1 = dH1 * H1 * (1 - H1)",
        "σ′ = σ(1 − σ), and dH1 given",
        ("--hidden", "3", "--activation", "sigmoid"),
    ),
    (
        "dH1 = G @ W2.T",
        "∂L/∂H1",
        ("--hidden", "3", "--activation", "tanh"),
    ),
    (
        "dW1 = X.T @ (G @ W2.T)",
        "a forgotten σ′ (a wrong answer, hinted)",
        ("--hidden", "3", "--activation", "relu"),
    ),
)

_NETWORK = """
Networks (--hidden 3 or --hidden 4,3, --activation NAME, --output-activation NAME):
  The network: A1 = X W1 + b1, H1 = σ(A1), A2 = H1 W2 + b2, …, samples as rows:
              X is m×k, Wℓ is dℓ₋₁×dℓ, bℓ is 1×dℓ, Aℓ and Hℓ are m×dℓ (d₀ = k, and the
              last layer's width is n). The report says which network it judged, first.
  Left side:  dX, dW1, db1, dA1, dH1, …; also dL/dW1, ∂L/∂W1, dL_dW1, grad_W1, W1_grad.
  Names:      X, W1, b1, A1, H1, …; G = ∂L/∂(the output), ∂L/∂A_L, or ∂L/∂H_L with an
              output activation (also delta, dout, grad_output); and the gradients found
              before the one claimed (dH1 and dA2 in a claim about dA1).
  Activations: σ(A1) (also sigma, the network's own), relu, sigmoid, tanh, leaky_relu;
              relu'(A1), σ′(A1), relu_prime(A1) are derivatives; (A1 > 0) is relu′,
              taken as 0 at 0.
  Products:   X * Y, X ⊙ Y, X .* Y are elementwise, between matrices of one shape, as in
              NumPy (--dialect matlab or math: * is X @ Y); 1 - H1 is taken entry by entry.
  Hints:      a wrong answer that is a slip of backpropagation is told which: a forgotten
              σ′, σ′ at the wrong layer, σ for σ′, σ′ of H for σ′ of A, W for Wᵀ, the
              wrong layer's activations, or the bias summed along the wrong axis.

Examples for networks:
"""

_FOOTER = """
Nothing is run as code: matgrad reads claims with its own parser. A claim may be at most
10,000 characters and nested 64 levels deep. The documentation (docs/claims.md) has more.
"""


def grammar_text() -> str:
    """The claim language, its operators, functions and examples, as plain text."""
    lines = [f"  {claim}\n      {meaning}" for claim, meaning in EXAMPLES]
    network = [
        f"  {claim}\n      {' '.join(options)}: {meaning}"
        for claim, meaning, options in NETWORK_EXAMPLES
    ]
    return _HEADER + "\n".join(lines) + "\n" + _NETWORK + "\n".join(network) + "\n" + _FOOTER
