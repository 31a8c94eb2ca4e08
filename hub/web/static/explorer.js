// The hub's explorer: GraphiQL with the headers editor open and a bearer-token hint in it, and
// the example operations (schema/operations) in the toolbar's "Examples" menu.
// Loaded after React, ReactDOM and GraphiQL, which the hub serves itself (hub/static): the page
// fetches nothing from any other host, and its Content-Security-Policy says so.
(function () {
  'use strict';

  var h = React.createElement;
  var config = JSON.parse(document.getElementById('explorer-config').textContent);
  var url = window.location.href.split(/[?#]/)[0];

  function isPlaceholder(value) {
    return String(value).indexOf('<') !== -1;
  }

  // The Authorization value of a headers text; null when absent, the hint, or not JSON yet.
  function authorization(text) {
    var headers;
    try {
      headers = JSON.parse(text || '{}');
    } catch (error) {
      return null;
    }
    if (!headers || typeof headers !== 'object') return null;
    var keys = Object.keys(headers);
    for (var i = 0; i < keys.length; i++) {
      if (keys[i].toLowerCase() === 'authorization' && !isPlaceholder(headers[keys[i]])) {
        return String(headers[keys[i]]);
      }
    }
    return null;
  }

  var fetchGraphQL = GraphiQL.createFetcher({
    url: url,
    // Subscriptions: GraphiQL sends the headers as the connection_init payload.
    subscriptionUrl: url.replace(/^http/, 'ws'),
  });

  // The hint is not sent: the hub then says a token is needed, rather than "invalid token".
  function makeFetcher() {
    return function (params, options) {
      var given = (options && options.headers) || {};
      var headers = {};
      Object.keys(given).forEach(function (key) {
        if (key.toLowerCase() !== 'authorization' || !isPlaceholder(given[key])) {
          headers[key] = given[key];
        }
      });
      return fetchGraphQL(params, Object.assign({}, options, { headers: headers }));
    };
  }

  function ExamplesMenu() {
    var ui = GraphiQL.React;
    var editor = ui.useEditorContext({ nonNull: true });
    function open(example) {
      editor.addTab();
      // The new tab's editors are filled when React renders it; write the example after that.
      window.setTimeout(function () {
        if (editor.queryEditor) editor.queryEditor.setValue(example.query);
      }, 0);
    }
    return h(
      ui.ToolbarMenu,
      {
        label: 'Examples: open an example operation in a new tab',
        button: h(ui.StarIcon, { className: 'graphiql-toolbar-icon', 'aria-hidden': 'true' }),
      },
      config.examples.map(function (example) {
        return h(
          ui.ToolbarMenu.Item,
          {
            key: example.name,
            className: 'hub-example',
            onSelect: function () {
              open(example);
            },
          },
          example.name,
        );
      }),
    );
  }

  function Explorer() {
    var token = React.useState(null);
    var headers = React.useState(config.headers);
    var timer = React.useRef(null);
    // A new fetcher makes GraphiQL fetch the schema again: pasting a token is enough.
    var fetcher = React.useMemo(makeFetcher, [token[0]]);

    function onEditHeaders(text) {
      window.clearTimeout(timer.current);
      timer.current = window.setTimeout(function () {
        var found = authorization(text);
        if (found !== null) headers[1](text); // new tabs get the pasted token too
        token[1](found);
      }, 300);
    }

    return h(GraphiQL, {
      fetcher: fetcher,
      defaultQuery: config.examples[0].query,
      defaultHeaders: headers[0],
      defaultEditorToolsVisibility: 'headers',
      isHeadersEditorEnabled: true,
      shouldPersistHeaders: false, // tokens stay out of localStorage
      inputValueDeprecation: true,
      onEditHeaders: onEditHeaders,
      toolbar: { additionalComponent: ExamplesMenu },
    });
  }

  ReactDOM.createRoot(document.getElementById('graphiql')).render(h(Explorer));
})();
