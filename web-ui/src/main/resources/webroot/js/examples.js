// Ready-to-copy calls of the Open Inference Protocol endpoint, with the model's example input.
// The key is read from the MM_API_KEY environment variable: a secret never belongs in a snippet.

export function inferUrl(slug, version) {
  const base = `${window.location.origin}/v2/models/${encodeURIComponent(slug)}`;
  return version ? `${base}/versions/${encodeURIComponent(version)}/infer` : `${base}/infer`;
}

/** The request body of an example: {"inputs": [...]} from the manifest's example. */
export function exampleBody(manifest) {
  const inputs = manifest && manifest.example && Array.isArray(manifest.example.inputs) ? manifest.example.inputs : [];
  return { inputs: inputs.map(tensorInOrder) };
}

/** A tensor with its keys in the protocol's reading order: name, datatype, shape, then data. */
function tensorInOrder(tensor) {
  const { name, datatype, shape, data, ...rest } = tensor;
  return { name, datatype, shape, ...rest, data };
}

/** JSON with one input tensor per line: readable, and still short for big tensors. */
export function formatBody(body) {
  const inputs = Array.isArray(body.inputs) ? body.inputs : [];
  const rest = Object.entries(body).filter(([k]) => k !== 'inputs');
  const lines = ['{'];
  rest.forEach(([k, v]) => lines.push(`  ${JSON.stringify(k)}: ${JSON.stringify(v)},`));
  lines.push('  "inputs": [');
  inputs.forEach((input, i) => lines.push(`    ${JSON.stringify(input)}${i < inputs.length - 1 ? ',' : ''}`));
  lines.push('  ]');
  lines.push('}');
  return lines.join('\n');
}

function shellQuote(text) {
  return `'${text.replace(/'/g, "'\\''")}'`;
}

export function curlExample(slug, manifest) {
  return [
    `curl -s ${inferUrl(slug)} \\`,
    '  -H "Authorization: Bearer $MM_API_KEY" \\',
    "  -H 'Content-Type: application/json' \\",
    `  -d ${shellQuote(JSON.stringify(exampleBody(manifest)))}`,
  ].join('\n');
}

function python(value) {
  if (value === null || value === undefined) return 'None';
  if (value === true) return 'True';
  if (value === false) return 'False';
  if (Array.isArray(value)) return `[${value.map(python).join(', ')}]`;
  if (typeof value === 'object') return `{${Object.entries(value).map(([k, v]) => `${JSON.stringify(k)}: ${python(v)}`).join(', ')}}`;
  return JSON.stringify(value);
}

export function pythonExample(slug, manifest) {
  return [
    'import os',
    '',
    'import requests',
    '',
    'response = requests.post(',
    `    ${JSON.stringify(inferUrl(slug))},`,
    '    headers={"Authorization": "Bearer " + os.environ["MM_API_KEY"]},',
    `    json=${python(exampleBody(manifest))},`,
    '    timeout=30,',
    ')',
    'response.raise_for_status()',
    'for output in response.json()["outputs"]:',
    '    print(output["name"], output["shape"], output["data"][:10])',
  ].join('\n');
}

export function javascriptExample(slug, manifest) {
  return [
    `const response = await fetch(${JSON.stringify(inferUrl(slug))}, {`,
    '  method: "POST",',
    '  headers: {',
    '    "Authorization": "Bearer " + process.env.MM_API_KEY,',
    '    "Content-Type": "application/json",',
    '  },',
    `  body: JSON.stringify(${JSON.stringify(exampleBody(manifest))}),`,
    '});',
    'if (!response.ok) throw new Error(`HTTP ${response.status}: ${await response.text()}`);',
    'const { model_version, outputs } = await response.json();',
    'console.log(model_version, outputs);',
  ].join('\n');
}
