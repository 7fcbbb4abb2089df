// placeholder: the inbox page is being built
